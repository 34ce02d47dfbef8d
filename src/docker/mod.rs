//! Every call to the Docker engine lives under this module (bollard only).
pub mod agent;
pub mod bottle;
pub mod container;
pub mod engine;
pub mod files;
pub mod grants;
pub mod labels;
pub mod network;
pub mod reaper;
pub mod sidecar;
pub mod subnet;
