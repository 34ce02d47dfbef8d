//! Every call to the Docker engine lives under this module (bollard only).
//!
//! - [`engine`]: connect, negotiate the API version, info and runtimes.
//! - [`ssh_relay`]: engines at `ssh://`, each connection over its own ssh.
//! - [`image`]: the agent image, built through the engine when its inputs change.
//! - [`image_ready`]: both images on a bottle's engine: there, pulled, or copied from the default one.
//! - [`labels`], [`subnet`], [`network`]: labelled resources on small subnets.
//! - [`files`], [`grants`], [`container`]: files copied in, hardened containers, exec.
//! - [`sidecar`], [`agent`], [`bottle`]: one bottle, start to finish.
//! - [`holder`]: the process in the agent container that keeps claude running.
//! - [`logs`]: a sidecar's output followed as lines.
//! - [`reaper`]: sessions by label; teardown and `gc`.
//! - [`workspace`]: the repository copied in, the agent's work bundled and brought out.
pub mod agent;
pub mod bottle;
pub mod container;
pub mod engine;
pub mod files;
pub mod grants;
pub mod holder;
pub mod image;
pub mod image_ready;
pub mod labels;
pub mod logs;
pub mod network;
pub mod reaper;
pub mod sidecar;
pub mod ssh_relay;
pub mod subnet;
pub mod workspace;
