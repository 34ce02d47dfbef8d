//! Every call to the Docker engine lives under this module (bollard only).
pub mod engine;
pub mod image;
