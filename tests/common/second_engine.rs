//! A second Docker engine on this machine standing in for a remote one: its
//! own dockerd, data root, exec root and address pool, in a network
//! namespace of its own (its bridges and iptables rules are its own, as on
//! another machine), reached over its own unix socket. `--live-restore`:
//! stopping it leaves its containers running, as a remote engine that stops
//! answering does. Removed, with everything on it, on drop. With TLS it
//! also listens on TCP, verified both ways, at an address of a veth pair
//! between this machine's namespace and its own (as a remote engine's
//! port would be).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SecondEngine {
    netns: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
    tls: Option<TlsListener>,
}

/// The engine's side of TLS: the CA clients must chain to, and its own
/// certificate (for [`tls_address`]) and key.
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The address a TLS engine started by this process listens on (its end of
/// the veth pair; this machine's end is the `.1` beside it).
pub fn tls_address() -> std::net::Ipv4Addr {
    let block = u8::try_from(std::process::id() % 250).unwrap();
    std::net::Ipv4Addr::new(10, 250, block, 2)
}

impl SecondEngine {
    /// Starts it; needs root (a network namespace) and dockerd.
    pub fn start(tag: &str) -> Self {
        Self::start_with(tag, None)
    }

    /// Starts it listening on TCP with TLS too, at `tcp://<tls_address>:2376`.
    pub fn start_with_tls(tag: &str, tls: TlsListener) -> Self {
        Self::start_with(tag, Some(tls))
    }

    fn start_with(tag: &str, tls: Option<TlsListener>) -> Self {
        let netns = format!("cb-{tag}-{}", std::process::id());
        // One a killed run of this test left (normally there is none).
        let _ = Command::new("ip")
            .args(["netns", "delete", &netns])
            .stderr(Stdio::null())
            .status();
        let made = Command::new("ip").args(["netns", "add", &netns]).status();
        assert!(
            made.is_ok_and(|s| s.success()),
            "a second engine needs a network namespace of its own: `ip netns add` must work \
             (root, iproute2)"
        );
        let mut engine = Self {
            netns,
            dir: tempfile::Builder::new()
                .prefix("cb-second-")
                .tempdir()
                .unwrap(),
            child: None,
            tls,
        };
        let lo_up = engine.in_netns("ip", &["link", "set", "lo", "up"]).status();
        assert!(lo_up.is_ok_and(|s| s.success()), "ip link set lo up");
        if engine.tls.is_some() {
            engine.link_to_this_machine();
        }
        engine.start_again();
        engine
    }

    /// A veth pair: `.1` here, `.2` (the engine's TCP port) in its namespace.
    fn link_to_this_machine(&self) {
        let there = tls_address();
        let [a, b, c, _] = there.octets();
        let here = format!("{a}.{b}.{c}.1/30");
        let (near, far) = (format!("cbv{c}a"), format!("cbv{c}b"));
        let _ = Command::new("ip")
            .args(["link", "delete", &near])
            .stderr(Stdio::null())
            .status();
        let steps: [&[&str]; 4] = [
            &["link", "add", &near, "type", "veth", "peer", "name", &far],
            &["link", "set", &far, "netns", &self.netns],
            &["addr", "add", &here, "dev", &near],
            &["link", "set", &near, "up"],
        ];
        for step in steps {
            let ok = Command::new("ip").args(step).status();
            assert!(ok.is_ok_and(|s| s.success()), "ip {step:?}");
        }
        let there = format!("{there}/30");
        for step in [
            vec!["addr", "add", there.as_str(), "dev", far.as_str()],
            vec!["link", "set", far.as_str(), "up"],
        ] {
            let ok = self.in_netns("ip", &step).status();
            assert!(
                ok.is_ok_and(|s| s.success()),
                "ip {step:?} in the namespace"
            );
        }
    }

    /// Its TCP address with TLS, when it listens there.
    pub fn tls_host(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|_| format!("tcp://{}:2376", tls_address()))
    }

    fn in_netns(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("nsenter");
        // nsenter, not `ip netns exec`: that one remounts /sys, hiding the
        // cgroups dockerd needs.
        cmd.arg(format!("--net=/run/netns/{}", self.netns))
            .arg(program)
            .args(args);
        cmd
    }

    /// The address that reaches it.
    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }

    /// `docker -H <it> args`, its output (the command must succeed).
    pub fn docker(&self, args: &[&str]) -> String {
        let out = Command::new("docker")
            .args(["-H", &self.host()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docker {args:?} on the second engine: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Starts its dockerd (again) and waits until it answers.
    pub fn start_again(&mut self) {
        let dir = self.dir.path();
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let arg = |name: &str| dir.join(name).display().to_string();
        let mut args = vec![
            "-H".to_owned(),
            self.host(),
            "--data-root".to_owned(),
            arg("data"),
            "--exec-root".to_owned(),
            arg("exec"),
            "--pidfile".to_owned(),
            arg("dockerd.pid"),
            "--default-address-pool".to_owned(),
            "base=10.98.0.0/16,size=24".to_owned(),
            "--live-restore".to_owned(),
        ];
        if let (Some(tls), Some(host)) = (&self.tls, self.tls_host()) {
            let path = |p: &Path| p.display().to_string();
            args.extend(["-H".to_owned(), host, "--tlsverify".to_owned()]);
            args.extend(["--tlscacert".to_owned(), path(&tls.ca)]);
            args.extend(["--tlscert".to_owned(), path(&tls.cert)]);
            args.extend(["--tlskey".to_owned(), path(&tls.key)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = self
            .in_netns("dockerd", &args)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answers = Command::new("docker")
                .args(["-H", &self.host(), "info"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if answers {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the second dockerd did not answer in 60 s:\n{}",
                std::fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops its dockerd (its containers keep running) and waits until it
    /// has ended.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Loads images of the default engine into it.
    pub fn load_from_default(&self, images: &[&str]) {
        let mut save = Command::new("docker")
            .arg("save")
            .args(images)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Command::new("docker")
            .args(["-H", &self.host(), "load", "-q"])
            .stdin(save.stdout.take().unwrap())
            .output()
            .unwrap();
        assert!(save.wait().unwrap().success() && out.status.success());
    }

    /// The folder its files are in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SecondEngine {
    fn drop(&mut self) {
        if self.child.is_none() {
            self.start_again();
        }
        // Everything on it is this test's: its containers go before it does
        // (live-restore would keep them running).
        let ids = self.docker(&["ps", "-aq"]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["-H", &self.host(), "rm", "-f"])
                .args(&ids)
                .output();
        }
        let _ = Command::new("docker")
            .args(["-H", &self.host(), "network", "prune", "-f"])
            .output();
        self.stop();
        // dockerd leaves its data root bind-mounted on itself.
        let _ = Command::new("umount")
            .arg(self.dir.path().join("data"))
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .status();
    }
}
