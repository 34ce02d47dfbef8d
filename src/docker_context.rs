//! The docker CLI's contexts, read as the CLI reads them: the context
//! `DOCKER_CONTEXT` names or the config's `currentContext`, and its engine
//! address from `contexts/meta/<sha256 of the name>/meta.json`. Files in,
//! an address out; `settings` decides when to look.

use std::path::{Path, PathBuf};

/// The context the docker CLI means when none is chosen: the local socket.
pub const DEFAULT_CONTEXT: &str = "default";

/// A context that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    #[error(
        "docker context {name:?} ({from}) is not in {}; `docker context ls` lists the \
         contexts, `docker context use default` goes back to the local engine",
        dir.display()
    )]
    NotFound {
        name: String,
        from: String,
        dir: PathBuf,
    },
    #[error("{} cannot be read: {why}", file.display())]
    Unreadable { file: PathBuf, why: String },
    #[error("docker context {name:?} has no Docker endpoint")]
    NoEndpoint { name: String },
    #[error(
        "docker context {name:?} reaches its engine over TLS, which claude-bottle does not \
         support yet; use a context on a unix socket or plain tcp, or set DOCKER_HOST"
    )]
    Tls { name: String },
}

/// The docker CLI's config folder: `DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir(docker_config: Option<&str>, home: Option<&str>) -> Option<PathBuf> {
    docker_config
        .map(PathBuf::from)
        .or_else(|| home.map(|h| Path::new(h).join(".docker")))
}

/// The config's `currentContext`, if it names one.
pub fn current_context(dir: &Path) -> Result<Option<String>, ContextError> {
    let file = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        // No config: the CLI uses the default context.
        return Ok(None);
    };
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ContextError::Unreadable {
            file: file.clone(),
            why: e.to_string(),
        })?;
    Ok(config
        .get("currentContext")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_owned))
}

/// The engine address of context `name` (`from`: who named it, for the
/// message); `None` for the default context.
pub fn endpoint(dir: &Path, name: &str, from: &str) -> Result<Option<String>, ContextError> {
    if name == DEFAULT_CONTEXT {
        return Ok(None);
    }
    let id = {
        use sha2::Digest as _;
        format!("{:x}", sha2::Sha256::digest(name.as_bytes()))
    };
    let file = dir.join("contexts/meta").join(&id).join("meta.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Err(ContextError::NotFound {
            name: name.to_owned(),
            from: from.to_owned(),
            dir: dir.join("contexts"),
        });
    };
    let meta: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| ContextError::Unreadable {
            file: file.clone(),
            why: e.to_string(),
        })?;
    let docker = meta.pointer("/Endpoints/docker");
    let host = docker
        .and_then(|d| d.get("Host"))
        .and_then(serde_json::Value::as_str)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ContextError::NoEndpoint {
            name: name.to_owned(),
        })?;
    let skip_verify = docker
        .and_then(|d| d.get("SkipTLSVerify"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    if skip_verify || dir.join("contexts/tls").join(&id).join("docker").exists() {
        return Err(ContextError::Tls {
            name: name.to_owned(),
        });
    }
    Ok(Some(host.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context as `docker context create NAME --docker host=HOST` writes it.
    fn context(dir: &Path, name: &str, host: &str) {
        use sha2::Digest as _;
        let id = format!("{:x}", sha2::Sha256::digest(name.as_bytes()));
        let meta = dir.join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({
            "Name": name, "Metadata": {},
            "Endpoints": { "docker": { "Host": host, "SkipTLSVerify": false } }
        });
        std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
    }

    #[test]
    fn a_context_names_its_engine_and_default_is_the_local_one() {
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "big-box", "tcp://10.0.0.5:2375");
        assert_eq!(
            endpoint(dir.path(), "big-box", "DOCKER_CONTEXT").unwrap(),
            Some("tcp://10.0.0.5:2375".into())
        );
        assert_eq!(endpoint(dir.path(), "default", "x").unwrap(), None);
        let missing = endpoint(dir.path(), "nope", "DOCKER_CONTEXT").unwrap_err();
        assert!(
            missing.to_string().contains("docker context ls"),
            "{missing}"
        );
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"big-box"}"#,
        )
        .unwrap();
        assert_eq!(current_context(dir.path()).unwrap(), Some("big-box".into()));
    }

    #[test]
    fn tls_contexts_are_refused_for_now() {
        use sha2::Digest as _;
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "secure", "tcp://10.0.0.5:2376");
        let id = format!("{:x}", sha2::Sha256::digest(b"secure"));
        std::fs::create_dir_all(dir.path().join("contexts/tls").join(id).join("docker")).unwrap();
        let refused = endpoint(dir.path(), "secure", "x").unwrap_err();
        assert!(matches!(refused, ContextError::Tls { .. }), "{refused}");
    }

    #[test]
    fn no_config_means_the_default_context() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(current_context(dir.path()).unwrap(), None);
        assert_eq!(
            config_dir(None, Some("/home/u")),
            Some(PathBuf::from("/home/u/.docker"))
        );
        assert_eq!(
            config_dir(Some("/cfg"), Some("/home/u")),
            Some(PathBuf::from("/cfg"))
        );
    }
}
