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
        "docker context {name:?} skips verifying its engine's TLS certificate, which \
         claude-bottle does not do; give the context the engine's CA (`docker context update \
         {name} --docker host=...,ca=...,cert=...,key=...`)"
    )]
    SkipsVerify { name: String },
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

/// A context's engine: its address, and the folder of its TLS files when it
/// has them (`contexts/tls/<id>/docker`: `ca.pem`, `cert.pem`, `key.pem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub tls: Option<PathBuf>,
}

/// The engine of context `name` (`from`: who named it, for the message);
/// `None` for the default context.
pub fn endpoint(dir: &Path, name: &str, from: &str) -> Result<Option<Endpoint>, ContextError> {
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
    if skip_verify {
        return Err(ContextError::SkipsVerify {
            name: name.to_owned(),
        });
    }
    let tls = dir.join("contexts/tls").join(&id).join("docker");
    Ok(Some(Endpoint {
        host: host.to_owned(),
        tls: tls.exists().then_some(tls),
    }))
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
            Some(Endpoint {
                host: "tcp://10.0.0.5:2375".into(),
                tls: None
            })
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
    fn a_tls_context_names_its_certificates_and_one_that_skips_verifying_is_refused() {
        use sha2::Digest as _;
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "secure", "tcp://10.0.0.5:2376");
        let id = format!("{:x}", sha2::Sha256::digest(b"secure"));
        let tls = dir.path().join("contexts/tls").join(id).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        let found = endpoint(dir.path(), "secure", "x").unwrap().unwrap();
        assert_eq!(found.tls, Some(tls));

        let meta = serde_json::json!({
            "Name": "lax", "Metadata": {},
            "Endpoints": { "docker": { "Host": "tcp://10.0.0.5:2376", "SkipTLSVerify": true } }
        });
        let id = format!("{:x}", sha2::Sha256::digest(b"lax"));
        let folder = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("meta.json"), meta.to_string()).unwrap();
        let refused = endpoint(dir.path(), "lax", "x").unwrap_err();
        assert!(
            matches!(refused, ContextError::SkipsVerify { .. }),
            "{refused}"
        );
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
