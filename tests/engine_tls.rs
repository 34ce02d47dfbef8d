//! An engine reached over TCP with TLS, as the docker CLI reaches one: a
//! second dockerd on this machine (its own data root, exec root and
//! containerd, no bridge and no iptables of its own: nothing is launched on
//! it) listens on loopback with `--tlsverify`, and the real binary reaches
//! it through `DOCKER_HOST` + `DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH` and
//! through a docker context that holds the certificates, and is refused by
//! it with certificates of another CA; and a bottle runs on an engine
//! reached over TCP with TLS through a docker context.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};

/// A CA and what it signed, written as the docker CLI keeps them.
struct Authority {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl Authority {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert_pem = params.self_signed(&key).unwrap().pem();
        Self {
            issuer: Issuer::new(params, key),
            cert_pem,
        }
    }

    /// A certificate for `names` with `usage`, and its key, as PEM.
    fn sign(&self, names: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    /// A client folder: this CA as `ca.pem`, a client certificate it signed.
    fn client_folder(&self, dir: &Path, trusted: &Self) {
        std::fs::create_dir_all(dir).unwrap();
        let (cert, key) = self.sign(&["client"], ExtendedKeyUsagePurpose::ClientAuth);
        std::fs::write(dir.join("ca.pem"), &trusted.cert_pem).unwrap();
        std::fs::write(dir.join("cert.pem"), cert).unwrap();
        std::fs::write(dir.join("key.pem"), key).unwrap();
    }
}

/// The second engine, stopped (and its folders removed) on drop.
struct SecondEngine {
    child: Child,
    dir: tempfile::TempDir,
    host: String,
}

impl SecondEngine {
    fn start(ca: &Authority) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = ca.sign(&["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (ca_file, cert_file, key_file) = (
            file("ca.pem", &ca.cert_pem),
            file("server.pem", &cert),
            file("server-key.pem", &key),
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let host = format!("tcp://127.0.0.1:{port}");
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--tlsverify")
            .arg("--tlscacert")
            .arg(&ca_file)
            .arg("--tlscert")
            .arg(&cert_file)
            .arg("--tlskey")
            .arg(&key_file)
            .args(["-H", &host])
            .arg("--data-root")
            .arg(dir.path().join("data"))
            .arg("--exec-root")
            .arg(dir.path().join("exec"))
            .arg("--pidfile")
            .arg(dir.path().join("dockerd.pid"))
            .args(["--iptables=false", "--bridge=none"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd starts (the engine tests run where the engine is installed)");
        Self { child, dir, host }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// Waits until it says its API listens.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.log().contains("API listen on") {
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the second dockerd ended:\n{}",
                self.log()
            );
            assert!(
                Instant::now() < deadline,
                "no API after 60 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variables that reach an engine over TLS with the files in `certs`.
fn tls_vars(certs: &Path) -> [(&'static str, &std::ffi::OsStr); 2] {
    [
        ("DOCKER_TLS_VERIFY", std::ffi::OsStr::new("1")),
        ("DOCKER_CERT_PATH", certs.as_os_str()),
    ]
}

/// Runs the real binary with only the engine variables given.
fn claude_bottle(
    args: &[&str],
    vars: &[(&str, &std::ffi::OsStr)],
    host: Option<&str>,
) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-bottle"));
    cmd.args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "sk-ant-oat01-test-only");
    if let Some(host) = host {
        cmd.env("DOCKER_HOST", host);
    }
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// A docker context named `name` at `host` with the TLS files of `certs`,
/// as `docker context create NAME --docker host=...,ca=...,cert=...,key=...`
/// writes it.
fn tls_context(config: &Path, name: &str, host: &str, certs: &Path) {
    let tls = common::write_context(config, name, host);
    std::fs::create_dir_all(&tls).unwrap();
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(certs.join(file), tls.join(file)).unwrap();
    }
}

#[test]
fn an_engine_over_tls_is_reached_as_the_docker_cli_reaches_it_and_only_with_its_ca() {
    let ca = Authority::new();
    let mut engine = SecondEngine::start(&ca);
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good");
    ca.client_folder(&good, &ca);
    engine.wait_ready();
    let host = engine.host.clone();

    // DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH.
    let vars = tls_vars(&good);
    let (code, report) = claude_bottle(&["doctor"], &vars, Some(&host));
    assert!(
        report.contains(&format!(
            "DOCKER_HOST={host} over TLS (certificates in {})",
            good.display()
        )) && report.contains("20.10"),
        "exit {code}:\n{report}"
    );
    let (code, listed) = claude_bottle(&["ps"], &vars, Some(&host));
    assert_eq!(code, 0, "{listed}");

    // A docker context holding the same certificates.
    let config = work.path().join("config");
    tls_context(&config, "far-box", &host, &good);
    let context_vars = [
        ("DOCKER_CONFIG", config.as_os_str()),
        ("DOCKER_CONTEXT", std::ffi::OsStr::new("far-box")),
    ];
    let (code, report) = claude_bottle(&["doctor"], &context_vars, None);
    assert!(
        report.contains(&format!(
            "docker context far-box (DOCKER_CONTEXT) at {host} over TLS"
        )) && report.contains("20.10"),
        "exit {code}:\n{report}"
    );

    // A client of another CA, trusting another CA: the engine is not reached.
    let stranger = Authority::new();
    let wrong = work.path().join("wrong");
    stranger.client_folder(&wrong, &stranger);
    let vars = tls_vars(&wrong);
    let (code, refused) = claude_bottle(&["ps"], &vars, Some(&host));
    assert_ne!(code, 0, "{refused}");
    assert!(
        refused.contains("cannot reach the Docker engine"),
        "{refused}"
    );
    // Plain HTTP to it: refused too.
    let (code, refused) = claude_bottle(&["ps"], &[], Some(&host));
    assert_ne!(code, 0, "{refused}");

    // Missing certificates stop every command first, saying which.
    let empty = work.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let vars = tls_vars(&empty);
    let (code, refused) = claude_bottle(&["ps"], &vars, Some(&host));
    assert_eq!(code, 2, "{refused}");
    assert!(
        refused.contains("lacks key.pem, cert.pem, ca.pem"),
        "{refused}"
    );
}

/// A bottle on an engine reached over TCP with TLS: a second engine in its
/// own network namespace (`common::second_engine`) whose TCP port is at the
/// far end of a veth pair, named by a docker context that holds the
/// client's certificates. The images are copied to it from the default
/// engine over that connection; the bottle's values reach it; it is gone
/// from that engine when the run ends.
#[test]
fn a_bottle_runs_on_an_engine_reached_over_tcp_with_tls() {
    use common::second_engine::{SecondEngine, TlsListener, tls_address};
    let ca = Authority::new();
    let work = tempfile::tempdir().unwrap();
    let (cert, key) = ca.sign(
        &[&tls_address().to_string()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let file = |name: &str, text: &str| {
        let path = work.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let listener = TlsListener {
        ca: file("ca.pem", &ca.cert_pem),
        cert: file("server.pem", &cert),
        key: file("server-key.pem", &key),
    };
    let second = SecondEngine::start_with_tls("tls", listener);
    let host = second.tls_host().unwrap();
    let client = work.path().join("client");
    ca.client_folder(&client, &ca);
    let config = work.path().join("config");
    tls_context(&config, "tls-box", &host, &client);

    let agent = format!("tls{}", std::process::id());
    let manifest = work.path().join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": { "far": { "context": "tls-box", "env": { "FROM_MANIFEST": "over-tls" } } },
        "agents": { &agent: { "bottle": "far" } }
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    let script = "echo env=$FROM_MANIFEST; echo token=${#CLAUDE_CODE_OAUTH_TOKEN}";
    let manifest = manifest.display().to_string();
    let args = [
        &["--manifest", manifest.as_str()][..],
        &common::run_args(&agent, script),
    ]
    .concat();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-bottle"));
    let out = cmd
        .args(args)
        .envs(common::test_image_env())
        .env("DOCKER_CONFIG", &config)
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "sk-ant-oat01-test-only")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("env=over-tls"), "{said}");
    let token_len = "sk-ant-oat01-test-only".len();
    assert!(said.contains(&format!("token={token_len}")), "{said}");
    assert!(
        said.contains("from engine default"),
        "the images were copied: {said}"
    );
    let label = format!("label=claude-bottle.agent={agent}");
    let left = second.docker(&["ps", "-aq", "--filter", &label]);
    assert!(left.is_empty(), "left on the TLS engine: {left}");
}
