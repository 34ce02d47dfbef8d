//! What a reload weakens, as pipelock judges it (`internal/config/reloadwarn.go`
//! ValidateReload), for the settings the stand-in reads, in pipelock's order.
//! In strict mode any of these rejects the whole reload. Adding hosts to
//! `api_allowlist` is not among them.

use crate::cidr::Cidr;
use crate::config::Config;

/// The names of pipelock 2.3.0's built-in DLP patterns, in order: the
/// patterns dropped when `dlp.include_defaults` is switched off.
const DEFAULT_DLP_PATTERNS: &str = "Anthropic API Key, OpenAI API Key, OpenAI Service Key, \
    Fireworks API Key, Google API Key, Google OAuth Client Secret, Stripe Key, \
    Stripe Webhook Secret, GitHub Token, GitHub Fine-Grained PAT, GitLab PAT, AWS Access ID, \
    AWS Secret Key, Google OAuth Token, Slack Token, Slack App Token, Discord Bot Token, \
    Twilio API Key, SendGrid API Key, Mailgun API Key, New Relic API Key, Hugging Face Token, \
    Databricks Token, Replicate API Token, Together AI Key, Pinecone API Key, Groq API Key, \
    xAI API Key, DigitalOcean Token, HashiCorp Vault Token, Vercel Token, Supabase Service Key, \
    npm Token, PyPI Token, Linear API Key, Notion API Key, Sentry Auth Token, \
    Private Key Header, JWT Token, Bitcoin WIF Private Key, Extended Private Key, \
    Ethereum Private Key, Social Security Number, Google OAuth Client ID, Credential in URL, \
    Environment Variable Secret, Credit Card Number, IBAN";

/// (field, message) pairs; printed as `WARNING: config reload: F - M`.
pub fn weakenings(old: &Config, new: &Config) -> Vec<(&'static str, String)> {
    let mut w: Vec<(&'static str, String)> = Vec::new();
    let rank = |m: &str| match m {
        "strict" => 3,
        "balanced" => 2,
        "audit" => 1,
        _ => 0,
    };
    if rank(&new.mode) < rank(&old.mode) {
        let msg = format!("mode downgraded from {} to {}", old.mode, new.mode);
        w.push(("mode", msg));
    }
    let patterns_dropped = old.dlp_include_defaults && !new.dlp_include_defaults;
    if patterns_dropped {
        let msg =
            format!("DLP patterns removed or regex-swapped on reload: {DEFAULT_DLP_PATTERNS}");
        w.push(("dlp.patterns", msg));
        w.push((
            "dlp.include_defaults",
            "DLP include_defaults disabled — new default patterns will not be merged on future upgrades"
                .to_string(),
        ));
    }
    if !old.internal.is_empty() && new.internal.is_empty() {
        let msg = "internal CIDR list emptied — SSRF protection disabled".to_string();
        w.push(("internal", msg));
    }
    if old.response_scanning && !new.response_scanning {
        w.push((
            "response_scanning.enabled",
            "response scanning disabled".to_string(),
        ));
    }
    if old.forward_enabled && !new.forward_enabled {
        w.push((
            "forward_proxy.enabled",
            "forward proxy disabled".to_string(),
        ));
    }
    let added = names_added(&old.trusted_domains, &new.trusted_domains);
    if !added.is_empty() {
        let msg = format!(
            "trusted domains added: {} — SSRF internal-IP check bypassed for these hosts",
            added.join(", ")
        );
        w.push(("trusted_domains", msg));
    }
    let expanded = ip_allowlist_expanded(&old.ssrf_ip_allowlist, &new.ssrf_ip_allowlist);
    if !expanded.is_empty() {
        let msg = format!(
            "SSRF IP allowlist expanded: {} — SSRF check bypassed for these IP ranges",
            expanded.join(", ")
        );
        w.push(("ssrf.ip_allowlist", msg));
    }
    if old.request_body_scanning && !new.request_body_scanning {
        let msg = "request body scanning disabled".to_string();
        w.push(("request_body_scanning.enabled", msg));
    }
    let (old_file, new_file) = (&old.dlp_secrets_file, &new.dlp_secrets_file);
    if old_file != new_file {
        if new_file.is_empty() {
            let msg = "secrets_file removed — known secret scanning disabled".to_string();
            w.push(("dlp.secrets_file", msg));
        } else if !old_file.is_empty() {
            let msg = format!(
                "secrets_file changed from {old_file:?} to {new_file:?} — secrets will be reloaded"
            );
            w.push(("dlp.secrets_file", msg));
        }
    }
    if patterns_dropped {
        let msg = "DLP patterns changed; Sentry scrubber uses init-time patterns until restart";
        w.push(("sentry", msg.to_string()));
    }
    if old.dlp_scan_env != new.dlp_scan_env {
        let msg = "dlp.scan_env changed; Sentry scrubber uses init-time env secrets until restart";
        w.push(("sentry", msg.to_string()));
    }
    if old_file != new_file {
        let msg =
            "dlp.secrets_file changed; Sentry scrubber uses init-time file secrets until restart";
        w.push(("sentry", msg.to_string()));
    }
    if old.media_policy && !new.media_policy {
        let msg = "media policy disabled — image metadata stripping, audio/video blocks, \
                   and exposure events no longer apply";
        w.push(("media_policy.enabled", msg.to_string()));
    }
    w
}

/// reloadwarn.go passthroughDomainsAdded: entries not in the old list (case-blind).
fn names_added(old: &[String], new: &[String]) -> Vec<String> {
    new.iter()
        .filter(|n| !old.iter().any(|o| o.eq_ignore_ascii_case(n)))
        .cloned()
        .collect()
}

/// reloadwarn.go ssrfIPAllowlistExpanded: blocks no old block covers.
fn ip_allowlist_expanded(old: &[String], new: &[String]) -> Vec<String> {
    let old: Vec<Cidr> = old.iter().filter_map(|c| Cidr::parse(c).ok()).collect();
    new.iter()
        .filter(|c| match Cidr::parse(c) {
            Ok(block) => !old.iter().any(|o| o.covers(&block)),
            Err(_) => true,
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            "mode: strict\napi_allowlist:\n  - \"a.test\"\nforward_proxy:\n  enabled: true\n{extra}"
        ))
        .unwrap()
    }

    fn fields(old: &str, new: &str) -> Vec<&'static str> {
        weakenings(&config(old), &config(new))
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn allowlist_changes_and_narrowing_are_fine() {
        let old = config("");
        let mut new = old.clone();
        new.allowlist.push("b.test".into());
        assert!(weakenings(&old, &new).is_empty());
        assert!(fields("trusted_domains:\n  - \"x.lan\"\n", "").is_empty());
        assert!(
            fields(
                "ssrf:\n  ip_allowlist:\n    - \"10.0.0.0/8\"\n",
                "ssrf:\n  ip_allowlist:\n    - \"10.1.0.0/16\"\n"
            )
            .is_empty()
        );
    }

    #[test]
    fn widening_the_ssrf_exceptions_is_a_weakening() {
        let w = weakenings(
            &config(""),
            &config("trusted_domains:\n  - \"Gitea.lan\"\n"),
        );
        assert_eq!(
            w,
            [(
                "trusted_domains",
                "trusted domains added: gitea.lan — SSRF internal-IP check bypassed for these hosts"
                    .to_string()
            )]
        );
        let w = weakenings(
            &config(""),
            &config("ssrf:\n  ip_allowlist:\n    - \"127.0.0.0/8\"\n"),
        );
        assert_eq!(
            w[0].1,
            "SSRF IP allowlist expanded: 127.0.0.0/8 — SSRF check bypassed for these IP ranges"
        );
    }

    #[test]
    fn mode_dlp_and_forwarding() {
        let mut balanced = config("");
        balanced.mode = "balanced".into();
        assert_eq!(
            weakenings(&config(""), &balanced),
            [(
                "mode",
                "mode downgraded from strict to balanced".to_string()
            )]
        );
        assert!(weakenings(&balanced, &config("")).is_empty());
        assert_eq!(fields("", "dlp:\n  scan_env: false\n"), ["sentry"]);
        assert_eq!(
            fields("", "dlp:\n  include_defaults: false\n"),
            ["dlp.patterns", "dlp.include_defaults", "sentry"]
        );
        assert_eq!(
            fields("dlp:\n  secrets_file: \"/a\"\n", ""),
            ["dlp.secrets_file", "sentry"]
        );
        assert_eq!(fields("", "dlp:\n  secrets_file: \"/a\"\n"), ["sentry"]);
        let mut off = config("");
        off.forward_enabled = false;
        assert_eq!(
            weakenings(&config(""), &off),
            [(
                "forward_proxy.enabled",
                "forward proxy disabled".to_string()
            )]
        );
    }

    #[test]
    fn scanning_switched_off() {
        assert_eq!(
            fields(
                "",
                "response_scanning:\n  enabled: false\nrequest_body_scanning:\n  enabled: false\n\
                 media_policy:\n  enabled: false\ninternal: []\n"
            ),
            [
                "internal",
                "response_scanning.enabled",
                "request_body_scanning.enabled",
                "media_policy.enabled"
            ]
        );
    }
}
