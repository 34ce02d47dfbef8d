//! The keys each manifest object accepts, and "did you mean" suggestions.
//!
//! The validator reads these lists and a test compares them with the JSON Schema in
//! `assets/claude-bottle.schema.json`, so the two cannot drift apart.

/// Keys of the top-level object.
pub const TOP_KEYS: &[&str] = &["$schema", "bottles", "agents"];
/// Keys of a `bottles.<name>` object.
pub const BOTTLE_KEYS: &[&str] = &["runtime", "context", "env", "ssh", "egress", "resources"];
/// Keys of one `ssh` entry; they follow `ssh_config` spelling.
pub const SSH_KEYS: &[&str] = &[
    "Host",
    "Hostname",
    "User",
    "Port",
    "IdentityFile",
    "KnownHostKey",
];
/// Keys of an `env` entry written as an object (`{ "value": ..., "hosts": [...] }`).
pub const ENV_ENTRY_KEYS: &[&str] = &["value", "hosts"];
/// Keys of a bottle's `egress` object.
pub const EGRESS_KEYS: &[&str] = &["allowlist", "private_hosts", "inspect", "passthrough"];
/// Keys of a bottle's `resources` object.
pub const RESOURCES_KEYS: &[&str] = &["cpus", "memory", "pids"];
/// Keys of an `agents.<name>` object.
pub const AGENT_KEYS: &[&str] = &["bottle", "skills", "prompt", "workspace"];
/// Keys of an agent's `workspace` object.
pub const WORKSPACE_KEYS: &[&str] = &["repo", "base", "uncommitted", "include"];
/// Accepted `runtime` values.
pub const RUNTIMES: &[&str] = &["runc", "runsc"];

/// The closest candidate to a misspelt word, if one is close enough to be a likely typo.
pub fn closest<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .filter_map(|c| {
            let cl = c.to_lowercase();
            let jw = strsim::jaro_winkler(&lower, &cl);
            let close = cl == lower || jw >= 0.8 || strsim::levenshtein(&lower, &cl) <= 2;
            // Two-letter words are all within distance 2 of each other: not a hint.
            (close && c.len() > 2).then_some((jw, c))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `X`?" when a candidate is close.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// `` `a`, `b`, `c` `` for messages.
pub fn list<'a, I>(items: I) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let quoted: Vec<String> = items.into_iter().map(|s| format!("`{s}`")).collect();
    quoted.join(", ")
}

/// Like [`list`], but only the first `max` items, then how many more there are.
pub fn list_some<'a, I>(items: I, max: usize) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let mut items = items.into_iter();
    let shown = list(items.by_ref().take(max));
    match items.count() {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        assert_eq!(
            closest("runtim", BOTTLE_KEYS.iter().copied()),
            Some("runtime")
        );
        assert_eq!(
            closest("HostName", SSH_KEYS.iter().copied()),
            Some("Hostname")
        );
        assert_eq!(
            closest("identityfile", SSH_KEYS.iter().copied()),
            Some("IdentityFile")
        );
        assert_eq!(
            closest("allow", EGRESS_KEYS.iter().copied()),
            Some("allowlist")
        );
        assert_eq!(closest("hosts", EGRESS_KEYS.iter().copied()), None);
        assert_eq!(closest("volumes", BOTTLE_KEYS.iter().copied()), None);
        assert_eq!(closest("gvisor", RUNTIMES.iter().copied()), None);
        assert_eq!(closest("runcs", RUNTIMES.iter().copied()), Some("runc"));
    }

    #[test]
    fn lists_are_quoted() {
        assert_eq!(list(["a", "b"]), "`a`, `b`");
        assert_eq!(list_some(["a", "b", "c"], 2), "`a`, `b` and 1 more");
        assert_eq!(list_some(["a", "b"], 2), "`a`, `b`");
    }
}
