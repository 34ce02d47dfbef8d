//! Launch: time to a ready bottle through `docker::bottle::launch`, against
//! the same networks and containers made with the plain docker CLI; and
//! many bottles launched together.

use claude_bottle::settings::Settings;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use claude_bottle::docker::agent::{
    AGENT_USER, AGENT_WORKDIR, DEFAULT_MEMORY_BYTES, DEFAULT_PIDS, container_env,
};
use claude_bottle::docker::bottle::{self, LaunchSettings};
use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::files::tar_archive;
use claude_bottle::docker::image::{AgentImageSource, ensure_agent_image};
use claude_bottle::docker::{grants, sidecar};
use claude_bottle::egress::config::{
    Inspection, PIPELOCK_PORT, PrivateDestinations, SidecarSettings, sidecar_command,
};
use claude_bottle::manifest::ResolvedAgent;

use crate::report::{Summary, Table};

pub const TEST_BASE_IMAGE: &str = "claude-bottle-test/debian-base:bookworm";
pub const SIDECAR_TEST_IMAGE: &str = "claude-bottle-test/pipelock:latest";

pub fn run(quick: bool, table: &mut Table) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run_async(quick, table))
}

async fn run_async(quick: bool, table: &mut Table) -> anyhow::Result<()> {
    let engine = connect().await?;
    let settings = images(&engine).await?;
    let repeats = if quick { 1 } else { 5 };
    let sidecar = sidecar_kind();
    let mut counter = 0;
    let (mut ours, mut plain, mut cli) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..repeats {
        eprintln!("  launch: round {}", round + 1);
        ours.push(launch_many(&engine, &settings, 1, true, &mut counter).await?);
        plain.push(launch_many(&engine, &settings, 1, false, &mut counter).await?);
        cli.push(cli_launch(&settings, &mut counter)?);
    }
    let (ours_s, plain_s, cli_s) = (Summary::of(&ours), Summary::of(&plain), Summary::of(&cli));
    let ratio = ours_s.median / cli_s.median;
    table.row(
        &format!("launch, one bottle to ready, TLS inspection on ({sidecar}), s"),
        ours_s.show(2),
        format!("docker CLI {}", cli_s.show(2)),
        format!("{ratio:.2}x"),
        "<= 1.2x",
        (!quick).then_some(ratio <= 1.2),
    );
    table.row(
        &format!("launch, one bottle to ready, TLS inspection off ({sidecar}), s"),
        plain_s.show(2),
        format!("inspection on {:.2}", ours_s.median),
        format!("{:.2}x", plain_s.median / ours_s.median),
        "",
        None,
    );
    if quick {
        return Ok(());
    }
    for (n, repeats) in [(8, 3), (32, 1)] {
        let mut times = Vec::new();
        let mut busy = Vec::new();
        for _ in 0..repeats {
            eprintln!("  launch: {n} together");
            let before = MachineCpu::now()?;
            times.push(launch_many(&engine, &settings, n, true, &mut counter).await?);
            busy.push(MachineCpu::now()?.busy_since(&before));
        }
        let busy = Summary::of(&busy);
        let t = Summary::of(&times);
        let ratio = t.median / ours_s.median;
        let (goal, met) = if n == 8 {
            ("<= 3x (2 cores)", Some(ratio <= 3.0))
        } else {
            ("", None)
        };
        #[allow(clippy::cast_precision_loss)]
        let per = t.median / n as f64;
        table.row(
            &format!(
                "launch, {n} bottles together until all ready, s (both cores busy {:.0}%)",
                busy.median
            ),
            format!("{} ({per:.2} per bottle)", t.show(2)),
            format!("one bottle {:.2}", ours_s.median),
            format!("{ratio:.2}x"),
            goal,
            met,
        );
    }
    Ok(())
}

/// The test images (as tests/common does): the pipelock stand-in and an
/// agent image from the offline Debian base with the real claude binary.
pub async fn images(engine: &Engine) -> anyhow::Result<LaunchSettings> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join("scripts/build-test-images.sh"))
        .stdout(Stdio::null())
        .status()
        .context("run scripts/build-test-images.sh")?;
    if !status.success() {
        bail!("scripts/build-test-images.sh failed: {status}");
    }
    let source = AgentImageSource {
        base_image: TEST_BASE_IMAGE.into(),
        install_packages: false,
        claude_binary: Some(root.join("target/test-images/claude")),
    };
    let agent_image = ensure_agent_image(engine, &source, &mut |_| {})
        .await
        .context("build the agent image")?;
    Ok(LaunchSettings {
        agent_image,
        sidecar_image: SIDECAR_TEST_IMAGE.into(),
        subnet_pool: Settings::from_env()?.subnet_pool,
        kept: false,
    })
}

/// The engine the environment names, as `claude-bottle` reaches it.
pub async fn connect() -> anyhow::Result<Engine> {
    let settings = Settings::from_env()?;
    Engine::connect(&settings.engine)
        .await
        .context("connect to the Docker engine")
}

/// The one host a bench bottle may reach (pipelock needs a non-empty list).
const ALLOWED: &str = "api.anthropic.com";

/// Which sidecar the test image is: `pipelock` (real) or `standin`.
fn sidecar_kind() -> String {
    let out = Command::new("docker")
        .args([
            "image",
            "inspect",
            "-f",
            "{{index .Config.Labels \"claude-bottle.test.sidecar\"}}",
            SIDECAR_TEST_IMAGE,
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        _ => "unknown sidecar".to_owned(),
    }
}

/// A resolved agent with no grants and one allowed host.
pub fn resolved_agent(name: &str, inspect: bool) -> ResolvedAgent {
    use claude_bottle::manifest::{Agent, AllowEntry, AllowOrigin, Bottle, Resources, Runtime};
    ResolvedAgent {
        agent: Agent {
            name: name.into(),
            source: "bench".into(),
            bottle: "bench".into(),
            skills: vec![],
            prompt: None,
            workspace: None,
        },
        bottle: Bottle {
            name: "bench".into(),
            source: "bench".into(),
            runtime: Runtime::Runc,
            context: None,
            env: vec![],
            ssh: vec![],
            allowlist: vec![ALLOWED.into()],
            private_hosts: vec![],
            inspect,
            passthrough: vec![],
            resources: Resources::default(),
        },
        env: vec![],
        skills: vec![],
        allowlist: vec![AllowEntry {
            host: ALLOWED.into(),
            origins: vec![AllowOrigin::Manifest],
        }],
    }
}

fn agent_name(counter: &mut usize) -> String {
    *counter += 1;
    format!("bench{}x{counter}", std::process::id())
}

/// The machine's CPU time so far, from the first line of /proc/stat.
struct MachineCpu {
    idle: u64,
    total: u64,
}

impl MachineCpu {
    fn now() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/stat")?;
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .context("an empty /proc/stat")?
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal ...
        let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
        Ok(Self {
            idle,
            total: fields.iter().sum(),
        })
    }

    /// Percent of all cores' time spent busy since `before`.
    #[allow(clippy::cast_precision_loss)]
    fn busy_since(&self, before: &Self) -> f64 {
        let total = self.total.saturating_sub(before.total).max(1) as f64;
        let idle = self.idle.saturating_sub(before.idle) as f64;
        100.0 * (1.0 - idle / total)
    }
}

/// Seconds until `n` bottles launched at once are all ready; then removes
/// them (not timed).
async fn launch_many(
    engine: &Engine,
    settings: &LaunchSettings,
    n: usize,
    inspect: bool,
    counter: &mut usize,
) -> anyhow::Result<f64> {
    let agents: Vec<ResolvedAgent> = (0..n)
        .map(|_| resolved_agent(&agent_name(counter), inspect))
        .collect();
    let start = Instant::now();
    let results = futures_util::future::join_all(
        agents
            .iter()
            .map(|a| async move { bottle::launch(engine, a, &[], settings, &mut |_| {}).await }),
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut failure = None;
    for result in results {
        match result {
            Ok(b) => b.teardown(engine).await?,
            Err(e) => failure = Some(e),
        }
    }
    if let Some(e) = failure {
        return Err(e).context("a launch failed");
    }
    Ok(elapsed)
}

fn docker(args: &[&str], stdin: Option<&[u8]>) -> anyhow::Result<bool> {
    let mut child = Command::new("docker")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("run docker")?;
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(bytes)?;
    }
    let out = child.wait_with_output()?;
    Ok(out.status.success())
}

fn docker_ok(args: &[&str], stdin: Option<&[u8]>) -> anyhow::Result<()> {
    if !docker(args, stdin)? {
        bail!("docker {args:?} failed");
    }
    Ok(())
}

/// A /29 of 10.218.0.0/16, a range the bottles' default pool does not use:
/// the subnet and its host `h`.
fn cli_subnet(k: usize, h: u8) -> String {
    let third = (k / 32) % 256;
    let fourth = (k % 32) * 8 + usize::from(h);
    if h == 0 {
        format!("10.218.{third}.{fourth}/29")
    } else {
        format!("10.218.{third}.{fourth}")
    }
}

/// The same bottle as `bottle::launch` makes, with plain docker commands:
/// the runtime check, two networks, the sidecar (config copied in, started,
/// polled healthy), the agent (files copied in, started). Seconds to ready;
/// then removes it (not timed).
#[allow(clippy::too_many_lines)] // one docker command per step, in order
fn cli_launch(settings: &LaunchSettings, counter: &mut usize) -> anyhow::Result<f64> {
    let name = agent_name(counter);
    let base = format!("cb-{name}-cli");
    let (int, egress) = (format!("{base}-int"), format!("{base}-egress"));
    let (sidecar_name, agent) = (format!("{base}-sidecar"), format!("{base}-agent"));
    let resolved = resolved_agent(&name, true);
    let label = format!("claude-bottle.bench={}", std::process::id());
    // Subnets are picked before the clock starts (the CLI has no allocator;
    // ours lists the engine's networks as part of its launch).
    let mut k = *counter * 2;
    let result = (|| -> anyhow::Result<f64> {
        let start = Instant::now();
        docker_ok(&["info", "--format", "{{json .Runtimes}}"], None)?;
        let mut nets = Vec::new();
        for (net, internal) in [(&int, true), (&egress, false)] {
            loop {
                let (subnet, gateway) = (cli_subnet(k, 0), cli_subnet(k, 1));
                let mut args = vec![
                    "network",
                    "create",
                    "--driver",
                    "bridge",
                    "--subnet",
                    &subnet,
                    "--gateway",
                    &gateway,
                    "--label",
                    &label,
                ];
                if internal {
                    args.extend([
                        "--internal",
                        "-o",
                        "com.docker.network.bridge.inhibit_ipv4=true",
                    ]);
                }
                args.push(net);
                k += 1;
                if docker(&args, None)? {
                    nets.push(k - 1);
                    break;
                }
                if k > *counter * 2 + 64 {
                    bail!("no free subnet for the CLI baseline in 10.218.0.0/16");
                }
            }
        }
        let (int_k, egress_k) = (nets[0], nets[1]);
        let proxy_ip = cli_subnet(int_k, 2);
        let egress_ip = cli_subnet(egress_k, 2);
        let agent_ip = cli_subnet(int_k, 3);
        let mut create = vec![
            "create".to_owned(),
            "--name".into(),
            sidecar_name.clone(),
            "--user".into(),
            "65534:65534".into(),
            "--label".into(),
            label.clone(),
            "--network".into(),
            egress.clone(),
            "--ip".into(),
            egress_ip,
            "--pids-limit".into(),
            "256".into(),
            "--memory".into(),
            "512m".into(),
            "--runtime".into(),
            "runc".into(),
            "--cap-drop".into(),
            "ALL".into(),
            "--security-opt".into(),
            "no-new-privileges".into(),
            "--init".into(),
            settings.sidecar_image.clone(),
        ];
        create.extend(sidecar_command());
        docker_ok(&create.iter().map(String::as_str).collect::<Vec<_>>(), None)?;
        docker_ok(
            &["network", "connect", "--ip", &proxy_ip, &int, &sidecar_name],
            None,
        )?;
        let sidecar_settings = SidecarSettings {
            identity: agent.clone(),
            allowlist: vec![ALLOWED.into()],
            private: PrivateDestinations::default(),
            inspection: Inspection::Off,
            watches_secrets: false,
            tunnels: claude_bottle::egress::config::TunnelLimits::default(),
        };
        let config = tar_archive(&sidecar::config_grant(&sidecar_settings))?;
        docker_ok(&["cp", "-", &format!("{sidecar_name}:/")], Some(&config))?;
        docker_ok(&["start", &sidecar_name], None)?;
        let addr = format!("127.0.0.1:{PIPELOCK_PORT}");
        let mut pause = sidecar::HEALTH_POLL_FIRST;
        let deadline = Instant::now() + Duration::from_secs(30);
        while !docker(
            &[
                "exec",
                &sidecar_name,
                "/pipelock",
                "healthcheck",
                "--addr",
                &addr,
            ],
            None,
        )? {
            if Instant::now() > deadline {
                bail!("the CLI-made sidecar never became healthy");
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(sidecar::HEALTH_POLL_MAX);
        }
        let memory = DEFAULT_MEMORY_BYTES.to_string();
        let pids = DEFAULT_PIDS.to_string();
        let mut create: Vec<String> = [
            "create",
            "--name",
            &agent,
            "--hostname",
            &name,
            "--user",
            AGENT_USER,
            "-w",
            AGENT_WORKDIR,
            "--entrypoint",
            "",
            "--label",
            &label,
            "--network",
            &int,
            "--ip",
            &agent_ip,
            "--runtime",
            "runc",
            "--dns",
            &proxy_ip,
            "--memory",
            &memory,
            "--memory-swap",
            &memory,
            "--pids-limit",
            &pids,
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--init",
        ]
        .map(str::to_owned)
        .to_vec();
        let proxy_addr: std::net::Ipv4Addr = proxy_ip.parse()?;
        for var in container_env(proxy_addr, PIPELOCK_PORT) {
            create.push("-e".into());
            create.push(var);
        }
        create.extend([
            settings.agent_image.clone(),
            "sleep".into(),
            "infinity".into(),
        ]);
        docker_ok(&create.iter().map(String::as_str).collect::<Vec<_>>(), None)?;
        let files = grants::agent_files(&resolved, &format!("{proxy_ip}:{PIPELOCK_PORT}"))?;
        docker_ok(
            &["cp", "-", &format!("{agent}:/")],
            Some(&tar_archive(&files)?),
        )?;
        docker_ok(&["start", &agent], None)?;
        Ok(start.elapsed().as_secs_f64())
    })();
    let _ = docker(&["rm", "-f", &agent, &sidecar_name], None);
    let _ = docker(&["network", "rm", &int, &egress], None);
    result
}
