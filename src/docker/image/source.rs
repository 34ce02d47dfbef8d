//! Where the agent image comes from (base image, packages, Claude Code binary) and
//! the content-addressed tag that names one such combination.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ImageError;

/// The base image used when `CLAUDE_BOTTLE_BASE_IMAGE` is not set.
pub const DEFAULT_BASE_IMAGE: &str = "debian:bookworm-slim";

/// Every agent image tag starts with this repository name.
pub const AGENT_IMAGE_REPOSITORY: &str = "claude-bottle/agent";

/// How to build the agent image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentImageSource {
    /// The image the agent image starts `FROM`. Debian-like: it needs apt and useradd.
    pub base_image: String,
    /// Whether to `apt-get install` the agent's tools. False when the base already
    /// has them (offline test bases); the build then needs no network at all.
    pub install_packages: bool,
    /// A Claude Code executable to copy into the image. `None` fetches the native
    /// binary from npm during the build.
    pub claude_binary: Option<PathBuf>,
}

impl Default for AgentImageSource {
    fn default() -> Self {
        Self {
            base_image: DEFAULT_BASE_IMAGE.to_owned(),
            install_packages: true,
            claude_binary: None,
        }
    }
}

impl AgentImageSource {
    /// From the variables (`settings` reads them once); unset or empty ones keep
    /// the defaults:
    /// - `CLAUDE_BOTTLE_BASE_IMAGE`: the base image (default `debian:bookworm-slim`).
    /// - `CLAUDE_BOTTLE_CLAUDE_BINARY`: path of a Claude Code executable to copy into the
    ///   image instead of downloading it from npm during the build.
    /// - `CLAUDE_BOTTLE_INSTALL_PACKAGES`: `1`/`true`/`yes` (default) or `0`/`false`/`no`;
    ///   `0` when the base image already holds git, ssh, curl, ripgrep and the rest.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, ImageError> {
        let set = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let mut source = Self::default();
        if let Some(base) = set("CLAUDE_BOTTLE_BASE_IMAGE") {
            source.base_image = base.to_string_lossy().into_owned();
        }
        source.claude_binary = set("CLAUDE_BOTTLE_CLAUDE_BINARY").map(PathBuf::from);
        if let Some(value) = set("CLAUDE_BOTTLE_INSTALL_PACKAGES") {
            let value = value.to_string_lossy();
            source.install_packages = match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => {
                    return Err(ImageError::InvalidSetting {
                        variable: "CLAUDE_BOTTLE_INSTALL_PACKAGES",
                        value: value.into_owned(),
                        expected: "1 or 0",
                    });
                }
            };
        }
        Ok(source)
    }

    /// The Dockerfile's build arguments for this source.
    pub fn build_args(&self) -> BTreeMap<&'static str, String> {
        let claude_source = if self.claude_binary.is_some() {
            "context"
        } else {
            "npm"
        };
        BTreeMap::from([
            ("BASE_IMAGE", self.base_image.clone()),
            (
                "INSTALL_PACKAGES",
                u8::from(self.install_packages).to_string(),
            ),
            ("CLAUDE_SOURCE", claude_source.to_owned()),
        ])
    }

    /// Whether the build's `RUN` steps download anything (apt packages, the npm package).
    pub fn build_needs_network(&self) -> bool {
        self.install_packages || self.claude_binary.is_none()
    }

    /// `claude-bottle/agent:<16 hex>`, a hash of the Dockerfile, the build arguments
    /// and the identity of the Claude Code binary: the same inputs give the same tag,
    /// so an image that exists is reused, and a changed input builds a new one.
    pub fn image_tag(&self, dockerfile: &str) -> Result<String, ImageError> {
        let binary = self
            .claude_binary
            .as_deref()
            .map(binary_identity)
            .transpose()?;
        Ok(tag_for(dockerfile, &self.build_args(), binary.as_deref()))
    }
}

/// Names one version of the binary without reading it. Hashing its ~400 MB costs
/// 2.5 s in a release build and minutes in a debug one, on every launch. `stat` is
/// enough: any write or replacement changes ctime or the inode, and ctime cannot be
/// set back. mtime alone would not do: npm packs every file with the same 1985 mtime.
/// A copy of the same bytes elsewhere builds once more, which is only slower.
fn binary_identity(path: &Path) -> Result<String, ImageError> {
    let unreadable = |source| ImageError::ClaudeBinary {
        path: path.to_owned(),
        source,
    };
    let canonical = std::fs::canonicalize(path).map_err(unreadable)?;
    let meta = std::fs::metadata(&canonical).map_err(unreadable)?;
    if !meta.is_file() {
        return Err(unreadable(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    Ok(format!(
        "{} size={} mtime={}.{} ctime={}.{} dev={} ino={}",
        canonical.display(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
        meta.dev(),
        meta.ino(),
    ))
}

fn tag_for(dockerfile: &str, args: &BTreeMap<&str, String>, binary: Option<&str>) -> String {
    let mut hash = Sha256::new();
    // Each part is length-prefixed so that no two different inputs hash the same bytes.
    let mut part = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    part(dockerfile.as_bytes());
    for (name, value) in args {
        part(name.as_bytes());
        part(value.as_bytes());
    }
    part(binary.unwrap_or("npm").as_bytes());
    let digest = hash.finalize();
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    format!(
        "{AGENT_IMAGE_REPOSITORY}:{:016x}",
        u64::from_be_bytes(prefix)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn unset_variables_give_the_production_defaults() {
        let source = AgentImageSource::from_lookup(lookup(&[])).unwrap();
        assert_eq!(source, AgentImageSource::default());
        assert_eq!(source.base_image, "debian:bookworm-slim");
        assert!(source.install_packages);
        assert!(source.build_needs_network());
        assert_eq!(source.build_args()["CLAUDE_SOURCE"], "npm");
    }

    #[test]
    fn variables_override_each_field() {
        let source = AgentImageSource::from_lookup(lookup(&[
            ("CLAUDE_BOTTLE_BASE_IMAGE", "local/base:1"),
            ("CLAUDE_BOTTLE_CLAUDE_BINARY", "/opt/claude"),
            ("CLAUDE_BOTTLE_INSTALL_PACKAGES", "0"),
        ]))
        .unwrap();
        assert_eq!(source.base_image, "local/base:1");
        assert_eq!(source.claude_binary, Some(PathBuf::from("/opt/claude")));
        assert!(!source.install_packages);
        assert!(!source.build_needs_network());
        let args = source.build_args();
        assert_eq!(args["CLAUDE_SOURCE"], "context");
        assert_eq!(args["INSTALL_PACKAGES"], "0");
        assert_eq!(args["BASE_IMAGE"], "local/base:1");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let source = AgentImageSource::from_lookup(lookup(&[
            ("CLAUDE_BOTTLE_BASE_IMAGE", ""),
            ("CLAUDE_BOTTLE_CLAUDE_BINARY", ""),
        ]))
        .unwrap();
        assert_eq!(source, AgentImageSource::default());
    }

    #[test]
    fn a_bad_install_packages_value_names_the_variable() {
        let err =
            AgentImageSource::from_lookup(lookup(&[("CLAUDE_BOTTLE_INSTALL_PACKAGES", "maybe")]))
                .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("CLAUDE_BOTTLE_INSTALL_PACKAGES"),
            "{message}"
        );
        assert!(message.contains("maybe"), "{message}");
    }

    #[test]
    fn the_tag_follows_every_input() {
        let source = AgentImageSource::default();
        let tag = source.image_tag("FROM x").unwrap();
        assert!(tag.starts_with("claude-bottle/agent:"), "{tag}");
        assert_eq!(tag.len(), "claude-bottle/agent:".len() + 16);
        assert_eq!(tag, source.image_tag("FROM x").unwrap());
        assert_ne!(tag, source.image_tag("FROM y").unwrap());
        let other_base = AgentImageSource {
            base_image: "other".into(),
            ..AgentImageSource::default()
        };
        assert_ne!(tag, other_base.image_tag("FROM x").unwrap());
        let no_packages = AgentImageSource {
            install_packages: false,
            ..AgentImageSource::default()
        };
        assert_ne!(tag, no_packages.image_tag("FROM x").unwrap());
    }

    #[test]
    fn rewriting_the_binary_changes_the_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claude");
        std::fs::write(&path, b"version one").unwrap();
        let source = AgentImageSource {
            claude_binary: Some(path.clone()),
            ..AgentImageSource::default()
        };
        let first = source.image_tag("FROM x").unwrap();
        assert_eq!(first, source.image_tag("FROM x").unwrap());
        assert_ne!(
            first,
            AgentImageSource::default().image_tag("FROM x").unwrap()
        );
        // Same size and mtime, as two npm releases can have: ctime still moves.
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"version two").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert_ne!(first, source.image_tag("FROM x").unwrap());
    }

    #[test]
    fn a_missing_binary_is_a_clear_error() {
        let source = AgentImageSource {
            claude_binary: Some(PathBuf::from("/nonexistent/claude")),
            ..AgentImageSource::default()
        };
        let message = source.image_tag("FROM x").unwrap_err().to_string();
        assert!(message.contains("/nonexistent/claude"), "{message}");
        assert!(message.contains("CLAUDE_BOTTLE_CLAUDE_BINARY"), "{message}");
    }
}
