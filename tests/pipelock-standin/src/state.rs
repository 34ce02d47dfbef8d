//! What every connection thread shares: the live config and counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Instant;

use crate::config::Config;
use crate::dlp::Dlp;
use crate::tls::Interceptor;

pub const VERSION: &str = "standin";

pub struct Shared {
    config: RwLock<Config>,
    started: Instant,
    requests: AtomicU64,
    /// Loaded at start, as pipelock loads its CA and secrets file (a reload
    /// that would change them is refused in strict mode).
    pub interceptor: Option<Interceptor>,
    pub dlp: Option<Dlp>,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        Self {
            config: RwLock::new(config),
            started: Instant::now(),
            requests: AtomicU64::new(0),
            interceptor: None,
            dlp: None,
        }
    }

    /// As [`Shared::new`], with the inspection CA and the secret scanner the
    /// config asks for.
    pub fn start(config: Config) -> Result<Self, String> {
        let interceptor = match &config.tls {
            Some(tls) => Some(Interceptor::load(&tls.ca_cert, &tls.ca_key)?),
            None => None,
        };
        let dlp = if config.request_body_scanning || interceptor.is_some() {
            Some(Dlp::new(&config.dlp_secrets_file)?)
        } else {
            None
        };
        Ok(Self {
            interceptor,
            dlp,
            ..Self::new(config)
        })
    }

    pub fn config(&self) -> Config {
        self.config
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn replace_config(&self, config: Config) {
        *self.config.write().unwrap_or_else(PoisonError::into_inner) = config;
    }

    /// `req-<N>`, a per-process counter as in pipelock.
    pub fn next_request_id(&self) -> String {
        format!("req-{}", self.requests.fetch_add(1, Ordering::Relaxed) + 1)
    }

    pub fn health_json(&self) -> String {
        let config = self.config();
        format!(
            "{{\"status\":\"healthy\",\"version\":\"{VERSION}\",\"mode\":\"{}\",\"uptime_seconds\":{:.1},\
             \"dlp_patterns\":0,\"response_scan_enabled\":false,\"git_protection_enabled\":false,\
             \"rate_limit_enabled\":false,\"forward_proxy_enabled\":{},\"websocket_proxy_enabled\":false,\
             \"request_body_scan_enabled\":false,\"tls_interception_enabled\":false,\"kill_switch_active\":false}}",
            config.mode,
            self.started.elapsed().as_secs_f64(),
            config.forward_enabled,
        )
    }
}
