//! The settings the stand-in honours, read from a pipelock YAML config.

use crate::yaml;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8888";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `strict`, `balanced` or `audit`; only strict enforces the allowlist.
    pub mode: String,
    pub allowlist: Vec<String>,
    pub listen: Option<String>,
    /// Shown as `agent` in log lines; pipelock says `anonymous` without one.
    pub identity: String,
    /// Start-up only: a reload cannot switch the forward proxy on or off.
    pub forward_enabled: bool,
}

impl Default for Config {
    /// What pipelock runs with when given no config file.
    fn default() -> Self {
        Self {
            mode: "balanced".to_string(),
            allowlist: Vec::new(),
            listen: None,
            identity: "anonymous".to_string(),
            forward_enabled: false,
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Self, String> {
        let doc = yaml::parse(text)?;
        let defaults = Self::default();
        let config = Self {
            mode: doc.scalar("mode").map_or(defaults.mode, String::from),
            allowlist: doc.lists.get("api_allowlist").cloned().unwrap_or_default(),
            listen: doc.scalar("fetch_proxy.listen").map(String::from),
            identity: doc
                .scalar("default_agent_identity")
                .map_or(defaults.identity, String::from),
            forward_enabled: doc.scalar("forward_proxy.enabled") == Some("true"),
        };
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.mode.as_str(), "strict" | "balanced" | "audit") {
            return Err(format!("invalid mode {:?}", self.mode));
        }
        if self.mode == "strict" && self.allowlist.is_empty() {
            return Err("strict mode requires a non-empty api_allowlist".to_string());
        }
        Ok(())
    }

    /// Whether a request to `host` may leave. Outside strict mode the allowlist
    /// is not enforced, as in pipelock.
    pub fn allows(&self, host: &str) -> bool {
        self.mode != "strict" || crate::allowlist::matches_any(&self.allowlist, host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_it_needs() {
        let c = Config::parse(
            "mode: \"strict\"\ndefault_agent_identity: \"bottle-a\"\napi_allowlist:\n  - \"a.test\"\n\
             fetch_proxy:\n  listen: \"0.0.0.0:8888\"\nforward_proxy:\n  enabled: true\n",
        )
        .unwrap();
        assert_eq!(c.mode, "strict");
        assert_eq!(c.identity, "bottle-a");
        assert_eq!(c.allowlist, ["a.test"]);
        assert_eq!(c.listen.as_deref(), Some("0.0.0.0:8888"));
        assert!(c.forward_enabled);
        assert!(c.allows("A.test.") && !c.allows("b.test"));
    }

    #[test]
    fn strict_needs_an_allowlist_and_modes_are_checked() {
        assert!(Config::parse("mode: strict\n").is_err());
        assert!(Config::parse("mode: loose\n").is_err());
        assert!(
            Config::parse("mode: audit\n")
                .unwrap()
                .allows("anything.test")
        );
    }
}
