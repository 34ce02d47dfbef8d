//! The allowlist entries that would have let a session's allowlist denials
//! through, ready to paste into a manifest (pure; nothing is changed).

use std::collections::BTreeMap;

use super::allow_match::covering_entry;
use super::denial::DenialKind;
use super::tally::DenialTally;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Hosts to add, sorted, each once.
    pub hosts: Vec<String>,
    /// Denied hosts the allowlist already covers (allowed since, or by a
    /// wildcard), with the entry that covers each.
    pub covered: Vec<(String, String)>,
    /// Denials of other kinds, which no allowlist entry lets through.
    pub left_out: BTreeMap<DenialKind, u32>,
    /// Whether the hosts were compared with the bottle's allowlist.
    pub compared: bool,
}

impl Proposal {
    /// From the tally; `allowlist` is the bottle's entries when known.
    pub fn new(tally: &DenialTally, allowlist: Option<&[&str]>) -> Self {
        let mut hosts = Vec::new();
        let mut covered = Vec::new();
        for host in &tally.allowlist_hosts {
            match allowlist.and_then(|entries| covering_entry(entries.iter().copied(), host)) {
                Some(entry) => covered.push((host.clone(), entry.to_owned())),
                None => hosts.push(host.clone()),
            }
        }
        let left_out = tally
            .by_kind
            .iter()
            .filter(|(kind, _)| **kind != DenialKind::Allowlist)
            .map(|(kind, n)| (*kind, *n))
            .collect();
        Self {
            hosts,
            covered,
            left_out,
            compared: allowlist.is_some(),
        }
    }

    /// One JSON string per line, as `egress.allowlist` holds them (the
    /// commas between are left to the person pasting: where they go depends
    /// on the list they paste into).
    pub fn entry_lines(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|h| serde_json::Value::String(h.clone()).to_string())
            .collect()
    }

    /// What the lines are, what was left out and why; nothing was changed.
    pub fn explanation(&self) -> Vec<String> {
        let mut lines = vec![if self.hosts.is_empty() {
            "No allowlist entries to propose: no request was refused for want of one.".to_owned()
        } else {
            format!(
                "{} egress.allowlist entr{} that would have let this session's allowlist \
                 denials through (nothing was changed):",
                self.hosts.len(),
                if self.hosts.len() == 1 { "y" } else { "ies" }
            )
        }];
        if !self.compared {
            lines.push(
                "Not compared with the bottle's allowlist (unknown here); hosts it already \
                 covers may be listed."
                    .to_owned(),
            );
        }
        for (host, entry) in &self.covered {
            lines.push(if host == entry {
                format!("{host} left out: on the allowlist now.")
            } else {
                format!("{host} left out: covered by {entry} now.")
            });
        }
        let left_out: u32 = self.left_out.values().sum();
        if left_out > 0 {
            let kinds: Vec<String> = self
                .left_out
                .iter()
                .map(|(kind, n)| format!("{n} {}", kind.label()))
                .collect();
            lines.push(format!(
                "{left_out} other denial{} left out ({}): an allowlist entry would not let \
                 {} through.",
                if left_out == 1 { "" } else { "s" },
                kinds.join(", "),
                if left_out == 1 { "it" } else { "them" }
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::log::{LogLine, parse_line};

    fn tally(lines: &[String]) -> DenialTally {
        let mut t = DenialTally::default();
        for line in lines {
            if let LogLine::Event(e) = parse_line(line) {
                t.record(&e);
            }
        }
        t
    }

    fn denied(host: &str, scanner: &str) -> String {
        format!(
            r#"{{"event":"blocked","method":"CONNECT","target":"{host}:443","scanner":"{scanner}","reason":"r"}}"#
        )
    }

    #[test]
    fn allowlist_denials_become_sorted_unique_entries() {
        let t = tally(&[
            denied("b.test", "allowlist"),
            denied("A.test", "allowlist"),
            denied("b.test", "allowlist"),
            denied("api.github.com", "allowlist"),
            denied("10.0.0.5", "ssrf"),
            denied("c.test", "ratelimit"),
            r#"{"event":"blocked","target":"[redacted-url]","scanner":"dlp"}"#.to_owned(),
        ]);
        let p = Proposal::new(&t, Some(&["*.github.com", "docs.rs"]));
        assert_eq!(p.entry_lines(), [r#""a.test""#, r#""b.test""#]);
        assert_eq!(
            p.covered,
            [("api.github.com".to_owned(), "*.github.com".to_owned())]
        );
        assert_eq!(
            p.explanation(),
            [
                "2 egress.allowlist entries that would have let this session's allowlist denials through (nothing was changed):",
                "api.github.com left out: covered by *.github.com now.",
                "3 other denials left out (1 private address, 1 rate limit, 1 secret or content): an allowlist entry would not let them through.",
            ]
        );
    }

    #[test]
    fn without_an_allowlist_it_says_so() {
        let t = tally(&[denied("x.test", "allowlist")]);
        let p = Proposal::new(&t, None);
        assert_eq!(p.hosts, ["x.test"]);
        assert!(p.explanation()[1].starts_with("Not compared"));
        let p = Proposal::new(&DenialTally::default(), Some(&[]));
        assert!(p.entry_lines().is_empty());
        assert_eq!(p.explanation().len(), 1);
    }
}
