//! What pipelock 2.3.0 prints on start-up, as seen by running it: stderr
//! `WARNING: fetch_proxy.listen: ...` lines (also on every reload) and the
//! banner; on stdout, for a listen address that is not loopback, an
//! `anomaly` line with method STARTUP before `startup`.

use crate::events::{Val, emit};

/// validate.go's listen warnings, without the `WARNING: fetch_proxy.listen: ` prefix.
pub fn listen_warnings(listen: &str) -> Vec<String> {
    let Some((host, _)) = split(listen) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| !ip.is_loopback())
    {
        out.push(format!(
            "listen address {listen} is not loopback - proxy endpoints (/metrics, /stats) will be exposed to the network"
        ));
    }
    if matches!(host, "" | "0.0.0.0" | "::") {
        out.push(format!(
            "listen address {listen} binds to all interfaces - consider using 127.0.0.1 for local-only access"
        ));
    }
    out
}

/// proxy.go Start: whether the STARTUP anomaly is logged.
pub fn exposed(listen: &str) -> bool {
    split(listen).is_some_and(|(host, _)| {
        matches!(host, "" | "0.0.0.0" | "::")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| !ip.is_loopback())
    })
}

/// Go's net.SplitHostPort, enough for listen addresses.
fn split(listen: &str) -> Option<(&str, &str)> {
    if let Some(rest) = listen.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = listen.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

pub fn print_banner(mode: &str, listen: &str, forward: bool, config: Option<&str>) {
    for warning in listen_warnings(listen) {
        eprintln!("WARNING: fetch_proxy.listen: {warning}");
    }
    eprintln!("Pipelock standin starting");
    eprintln!("  Mode:   {mode}");
    eprintln!("  Listen: {listen}");
    eprintln!("  Health: http://{listen}/health");
    if forward {
        eprintln!("  Proxy:  HTTP/HTTPS forward proxy enabled (CONNECT + absolute-URI)");
    }
    if let Some(path) = config {
        eprintln!("  Config: {path} (hot-reload enabled, SIGHUP to reload)");
    }
}

pub fn log_started(listen: &str, mode: &str, version: &str, config_hash: &str) {
    if exposed(listen) {
        let fields = [
            ("method", Val::Str("STARTUP")),
            ("resource", Val::Str(listen)),
            (
                "reason",
                Val::Str(
                    "listen address is not loopback — /metrics and /stats endpoints are exposed to the network",
                ),
            ),
            ("score", Val::Float(0.5)),
        ];
        emit("warn", "anomaly", &fields, "anomaly detected");
    }
    let fields = [
        ("listen", Val::Str(listen)),
        ("mode", Val::Str(mode)),
        ("version", Val::Str(version)),
        ("config_hash", Val::Str(config_hash)),
    ];
    emit("info", "startup", &fields, "pipelock started");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert_eq!(listen_warnings("0.0.0.0:8888").len(), 2);
        assert_eq!(
            listen_warnings("0.0.0.0:8888")[1],
            "listen address 0.0.0.0:8888 binds to all interfaces - consider using 127.0.0.1 for local-only access"
        );
        assert_eq!(listen_warnings("10.1.2.3:8888").len(), 1);
        assert_eq!(listen_warnings(":8888").len(), 1);
        assert!(listen_warnings("127.0.0.1:8888").is_empty());
        assert!(listen_warnings("localhost:8888").is_empty());
        assert!(exposed("0.0.0.0:8888") && exposed(":8888") && exposed("[::]:8888"));
        assert!(!exposed("127.0.0.1:8888") && !exposed("[::1]:8888") && !exposed("localhost:1"));
    }
}
