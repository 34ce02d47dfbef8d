//! The agent image: built once per distinct input through the engine's API, then
//! found again by its content-addressed tag.

mod build_log;
mod context;
mod source;
mod stale;

use std::collections::HashMap;
use std::path::PathBuf;

use bollard::models::BuildInfo;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use self::build_log::BuildLog;
pub use self::context::write_build_context;
pub use self::source::{AGENT_IMAGE_REPOSITORY, AgentImageSource, DEFAULT_BASE_IMAGE};
pub use self::stale::{
    Removal, StaleImage, reclaimable_bytes, remove_stale_image, stale_agent_images,
};
use super::engine::Engine;

/// The agent image's Dockerfile, built into the binary.
pub fn agent_dockerfile() -> &'static str {
    include_str!("../../assets/agent.Dockerfile")
}

/// What a build is doing, as it happens. Nothing is reported when the image exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildProgress {
    /// The image is missing and its build starts; it will be tagged `tag`.
    Started { tag: String },
    /// One line of the builder's output (`Step 3/12 : RUN ...`, a command's output).
    Output(String),
    /// A pull status from the engine (`Pulling from library/debian`, `Downloading`).
    Status(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("{variable} is {value:?}; expected {expected}")]
    InvalidSetting {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error(
        "cannot read the Claude Code binary {} (set by CLAUDE_BOTTLE_CLAUDE_BINARY): {source}",
        path.display()
    )]
    ClaudeBinary {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", describe_build_failure(tag, log_tail, hint.as_deref()))]
    BuildFailed {
        tag: String,
        /// The last lines of the build's output, the failing step and its error included.
        log_tail: String,
        /// How to fix it, when the cause is known.
        hint: Option<String>,
    },
    #[error("the Docker engine answered with an error: {0}")]
    Engine(#[from] bollard::errors::Error),
}

fn describe_build_failure(tag: &str, log_tail: &str, hint: Option<&str>) -> String {
    let hint = hint.map(|hint| format!("\n{hint}")).unwrap_or_default();
    format!("building the agent image {tag} failed; the build's last lines:\n{log_tail}{hint}")
}

/// Returns the tag of the agent image for `source`, building it first if the engine
/// does not have it. The build's output goes to `on_progress` line by line.
pub async fn ensure_agent_image(
    engine: &Engine,
    source: &AgentImageSource,
    on_progress: &mut (dyn FnMut(&BuildProgress) + Send),
) -> Result<String, ImageError> {
    let tag = source.image_tag(agent_dockerfile())?;
    if image_exists(engine, &tag).await? {
        return Ok(tag);
    }
    on_progress(&BuildProgress::Started { tag: tag.clone() });
    build(engine, source, &tag, on_progress).await?;
    Ok(tag)
}

/// Whether the engine has an image by this name.
pub async fn image_exists(engine: &Engine, name: &str) -> Result<bool, ImageError> {
    match engine.docker.inspect_image(name).await {
        Ok(_) => Ok(true),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

async fn build(
    engine: &Engine,
    source: &AgentImageSource,
    tag: &str,
    on_progress: &mut (dyn FnMut(&BuildProgress) + Send),
) -> Result<(), ImageError> {
    let build_args: HashMap<&str, String> = source.build_args().into_iter().collect();
    let labels = HashMap::from([(super::labels::MANAGED, "true")]);
    let mut options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .buildargs(&build_args)
        .labels(&labels)
        .rm(true)
        .forcerm(true);
    if !source.build_needs_network() {
        // An offline build stays offline, and does not depend on the default bridge
        // network, which is broken on some engines.
        options = options.networkmode("none");
    }
    let options = options.build();
    let (chunks, writer) =
        context::stream_build_context(agent_dockerfile(), source.claude_binary.as_deref());
    let body = bollard::body_try_stream(chunks.map(|chunk| chunk.map(Into::into)));

    let mut log = BuildLog::default();
    let mut failed = {
        // Dropping this stream at the end of the block closes the request body,
        // which releases a writer still blocked on a full channel.
        let events = engine.docker.build_image(options, None, Some(body));
        follow_build(events, &mut log, on_progress).await
    };

    let upload = writer.await.map_err(std::io::Error::other).and_then(|r| r);
    if let (Err(error), Some(path)) = (upload, &source.claude_binary) {
        // BrokenPipe only echoes the engine hanging up; anything else means the
        // binary could not be read, which explains the failure better.
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(ImageError::ClaudeBinary {
                path: path.clone(),
                source: error,
            });
        }
    }
    if !failed && !image_exists(engine, tag).await? {
        let message = format!("the engine reported no error, yet has no image {tag}");
        emit(on_progress, log.push_error(&message));
        failed = true;
    }
    if failed {
        return Err(ImageError::BuildFailed {
            tag: tag.to_owned(),
            log_tail: log.tail(),
            hint: log
                .failed_at_from()
                .then(|| base_image_hint(&source.base_image)),
        });
    }
    Ok(())
}

/// Reads the build's events into `log` and `on_progress`; returns whether it failed.
async fn follow_build(
    mut events: impl futures_util::Stream<Item = Result<BuildInfo, bollard::errors::Error>> + Unpin,
    log: &mut BuildLog,
    on_progress: &mut (dyn FnMut(&BuildProgress) + Send),
) -> bool {
    while let Some(event) = events.next().await {
        match event {
            Ok(info) => {
                if let Some(chunk) = &info.stream {
                    emit(on_progress, log.push_chunk(chunk));
                }
                if let Some(status) = info.status {
                    let status = match info.id {
                        Some(id) => format!("{id}: {status}"),
                        None => status,
                    };
                    on_progress(&BuildProgress::Status(status));
                }
            }
            Err(error) => {
                let message = match error {
                    bollard::errors::Error::DockerStreamError { error } => error,
                    other => other.to_string(),
                };
                emit(on_progress, log.push_error(&message));
                return true;
            }
        }
    }
    emit(on_progress, log.flush());
    false
}

fn emit(on_progress: &mut (dyn FnMut(&BuildProgress) + Send), lines: Vec<String>) {
    for line in lines {
        on_progress(&BuildProgress::Output(line));
    }
}

fn base_image_hint(base_image: &str) -> String {
    format!(
        "The base image {base_image} is not in the Docker engine and could not be pulled. \
         Set CLAUDE_BOTTLE_BASE_IMAGE to an image the engine has (see `docker images`), \
         or make {base_image} available (`docker pull {base_image}`, or `docker load` on a \
         machine without a registry)."
    )
}
