//! What every bottle container shares: creation with hardening defaults,
//! files copied in through the engine, start, and exec.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, ExecConfig, HostConfig,
    NetworkingConfig,
};
use bollard::query_parameters::{CreateContainerOptions, UploadToContainerOptions};
use futures_util::StreamExt as _;

use super::engine::{Engine, EngineError};
use super::files::{FileGrant, tar_archive};

/// Capabilities and privilege settings applied to every bottle container.
pub fn hardened_host_config(network: &str) -> HostConfig {
    HostConfig {
        network_mode: Some(network.to_owned()),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        init: Some(true),
        privileged: Some(false),
        ..Default::default()
    }
}

/// Attaches a container to `network` at a fixed address at creation.
pub fn endpoint_at(network: &str, ip: std::net::Ipv4Addr) -> NetworkingConfig {
    NetworkingConfig {
        endpoints_config: Some(HashMap::from([(network.to_owned(), fixed_ip_endpoint(ip))])),
    }
}

pub fn fixed_ip_endpoint(ip: std::net::Ipv4Addr) -> EndpointSettings {
    EndpointSettings {
        ipam_config: Some(EndpointIpamConfig {
            ipv4_address: Some(ip.to_string()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Creates a container by name; returns its id.
pub async fn create(
    engine: &Engine,
    name: &str,
    body: ContainerCreateBody,
) -> Result<String, EngineError> {
    let options = CreateContainerOptions {
        name: Some(name.to_owned()),
        ..Default::default()
    };
    Ok(engine
        .docker
        .create_container(Some(options), body)
        .await?
        .id)
}

/// Starts a created or stopped container.
pub async fn start(engine: &Engine, name: &str) -> Result<(), EngineError> {
    engine.docker.start_container(name, None).await?;
    Ok(())
}

/// Copies files into a container (created or running) through the archive API.
pub async fn copy_in(
    engine: &Engine,
    container: &str,
    grants: &[FileGrant],
) -> Result<(), EngineError> {
    if grants.is_empty() {
        return Ok(());
    }
    let archive = tar_archive(grants)?;
    let options = UploadToContainerOptions {
        path: "/".into(),
        ..Default::default()
    };
    engine
        .docker
        .upload_to_container(container, Some(options), bollard::body_full(archive.into()))
        .await?;
    Ok(())
}

/// Copies a tar archive made beforehand into a container's `/` (the bytes
/// are shared, not copied).
pub async fn copy_archive_in(
    engine: &Engine,
    container: &str,
    archive: bytes::Bytes,
) -> Result<(), EngineError> {
    let options = UploadToContainerOptions {
        path: "/".into(),
        ..Default::default()
    };
    engine
        .docker
        .upload_to_container(container, Some(options), bollard::body_full(archive))
        .await?;
    Ok(())
}

/// Copies a tar archive that arrives in chunks into a container's `/`.
pub async fn copy_stream_in(
    engine: &Engine,
    container: &str,
    chunks: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
) -> Result<(), EngineError> {
    let options = UploadToContainerOptions {
        path: "/".into(),
        ..Default::default()
    };
    let stream = futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    engine
        .docker
        .upload_to_container(container, Some(options), bollard::body_try_stream(stream))
        .await?;
    Ok(())
}

/// A file out of a container into `dest` on this machine, through the
/// archive API, refused past `limit` bytes (the container's contents are not
/// ours to trust, and the transfer stops there). `false` when there is no
/// regular file at `path`.
pub async fn download_file(
    engine: &Engine,
    container: &str,
    path: &str,
    limit: u64,
    dest: &std::path::Path,
) -> Result<bool, EngineError> {
    use std::io::Write as _;
    let mut archive = tempfile::tempfile()?;
    if !archive_of(engine, container, path, limit, |bytes| {
        archive.write_all(bytes)
    })
    .await?
    {
        return Ok(false);
    }
    let dest = dest.to_path_buf();
    tokio::task::spawn_blocking(move || crate::docker::files::extract_first_file(archive, &dest))
        .await
        .map_err(std::io::Error::other)?
        .map_err(EngineError::from)
}

/// A file's bytes out of a container (created or running) through the
/// archive API; `None` when there is no regular file at `path`. At most
/// `limit` bytes are read: the container's contents are not ours to trust.
pub async fn read_file(
    engine: &Engine,
    container: &str,
    path: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, EngineError> {
    let mut archive = Vec::new();
    let found = archive_of(engine, container, path, limit, |bytes| {
        archive.extend_from_slice(bytes);
        Ok(())
    })
    .await?;
    Ok(found
        .then(|| crate::docker::files::first_regular_file(&archive))
        .flatten())
}

/// Streams the archive the engine makes of `path` into `keep`, stopping
/// past `limit` bytes of file (the tar framing adds a little); `false` when
/// there is nothing at `path`.
async fn archive_of(
    engine: &Engine,
    container: &str,
    path: &str,
    limit: u64,
    mut keep: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<bool, EngineError> {
    let options = bollard::query_parameters::DownloadFromContainerOptions {
        path: path.to_owned(),
    };
    let mut stream = engine
        .docker
        .download_from_container(container, Some(options));
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => {
                received += bytes.len() as u64;
                if received > limit + 64 * 1024 {
                    return Err(EngineError::TooLarge {
                        what: format!("{path} in {container}"),
                        limit,
                    });
                }
                keep(&bytes)?;
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// The outcome of a command run to completion inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// Which of a command's outputs a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// An exec: what runs, as whom, where, with which variables. `env` reaches
/// only this process: exec settings are not part of the container's stored
/// config.
#[derive(Debug, Default)]
pub struct ExecRequest<'a> {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<&'a str>,
    pub workdir: Option<&'a str>,
}

/// Runs a command in a running container, handing each chunk of its output
/// to `on_output` as it comes; returns its exit code.
pub async fn exec_streaming(
    engine: &Engine,
    container: &str,
    request: ExecRequest<'_>,
    mut on_output: impl FnMut(OutputStream, &[u8]),
) -> Result<i64, EngineError> {
    let exec = engine
        .docker
        .create_exec(
            container,
            ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(request.cmd),
                env: Some(request.env),
                user: request.user.map(str::to_owned),
                working_dir: request.workdir.map(str::to_owned),
                ..Default::default()
            },
        )
        .await?;
    if let bollard::exec::StartExecResults::Attached { mut output, .. } =
        engine.docker.start_exec(&exec.id, None).await?
    {
        while let Some(chunk) = output.next().await {
            match chunk? {
                bollard::container::LogOutput::StdErr { message } => {
                    on_output(OutputStream::Stderr, &message);
                }
                other => on_output(OutputStream::Stdout, &other.into_bytes()),
            }
        }
    }
    Ok(engine
        .docker
        .inspect_exec(&exec.id)
        .await?
        .exit_code
        .unwrap_or(-1))
}

/// Runs a command in a running container and collects its output.
pub async fn exec_collect(
    engine: &Engine,
    container: &str,
    user: Option<&str>,
    cmd: &[&str],
    env: Vec<String>,
) -> Result<ExecOutput, EngineError> {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let request = ExecRequest {
        cmd: cmd.iter().map(|s| (*s).to_owned()).collect(),
        env,
        user,
        workdir: None,
    };
    let exit_code = exec_streaming(engine, container, request, |stream, bytes| match stream {
        OutputStream::Stdout => stdout.extend_from_slice(bytes),
        OutputStream::Stderr => stderr.extend_from_slice(bytes),
    })
    .await?;
    Ok(ExecOutput {
        exit_code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
