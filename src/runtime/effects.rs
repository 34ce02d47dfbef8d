//! Running the model's effects. Docker work runs in tokio tasks whose results
//! come back to the loop as messages; nothing here blocks the loop.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

mod work;

use super::context::DashboardContext;
use crate::app::{BottleId, Effect, Event, KeptBottle, Leftover, Progress, Secret};
use crate::docker::bottle::{self, Bottle, LaunchSettings};
use crate::docker::engine::Engine;
use crate::docker::image::BuildProgress;
use crate::docker::image_ready::{CopySource, images_ready};
use crate::docker::{holder, labels, logs, reaper, sidecar};
use crate::egress::config::SidecarSettings;
use crate::manifest::ResolvedAgent;
use crate::manifest::edit::add_allow_host_to_file;
use crate::session::exec_plan::{ExecPlan, Viewer, agent_env};
use crate::session::keys::{InputModes, encode_key, encode_paste};
use crate::session::{Session, SessionNotice};
use crate::settings::{DEFAULT_ENGINE, Settings};
use crate::workspace::Located;

/// What background tasks send the loop.
#[derive(Debug)]
pub enum Msg {
    /// Something for the model.
    Event(Event),
    /// The engine called `name` answered (with its version), or why not.
    Engine {
        name: String,
        result: Result<(Engine, String), String>,
    },
    /// A launch failed.
    LaunchFailed { id: BottleId, reason: String },
    /// A bottle is up; the loop starts its terminal.
    BottleUp {
        id: BottleId,
        bottle: Box<Bottle>,
        plan: ExecPlan,
    },
    /// A kept bottle was found again and claude runs in it; `take_over`
    /// when no live viewer holds it.
    Adopted {
        id: BottleId,
        bottle: Box<Bottle>,
        plan: ExecPlan,
        take_over: bool,
    },
    /// Claude runs under its holder again: open a terminal on it.
    Serving { id: BottleId, rows: u16, cols: u16 },
    /// The sidecar was started again at `since` (Unix seconds): follow it.
    SidecarRestarted { id: BottleId, since: i32 },
    /// A host was added; the sidecar runs with `settings` now.
    Allowed {
        id: BottleId,
        settings: SidecarSettings,
    },
    /// The work of a bottle about to be removed was collected (what, or
    /// why not: then it stays).
    Collected {
        id: BottleId,
        result: Result<String, String>,
    },
}

/// The model asked to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuitRequest {
    /// Remove the bottles.
    pub teardown: bool,
    /// Collect their uncollected work first.
    pub collect: bool,
}

/// What the dashboard holds for one bottle, from its launch on. Its tasks
/// end, and its terminal is killed, when it is dropped.
#[derive(Default)]
struct LiveBottle {
    /// The launch, while it runs.
    launch: Option<JoinHandle<()>>,
    /// The bottle once it is up, with the plan of its terminal (to open it
    /// again after it ended).
    up: Option<(Bottle, ExecPlan)>,
    session: Option<Session>,
    /// The task following its sidecar's log.
    tail: Option<JoinHandle<()>>,
    /// The engine it runs on, by name.
    engine: String,
    /// Killed while launching: removed as soon as the launch ends (stopping
    /// the launch half-way would leave what it made so far).
    killed: bool,
}

impl Drop for LiveBottle {
    fn drop(&mut self) {
        for task in [self.launch.take(), self.tail.take()].into_iter().flatten() {
            task.abort();
        }
        if let Some(mut session) = self.session.take() {
            session.kill();
        }
    }
}

impl crate::ui::Screens for Effects {
    fn screen(&self, id: BottleId) -> Option<crate::session::TermView> {
        self.view_of(id)
    }
}

/// Runs the model's effects: owns the engine connections and every live bottle.
pub struct Effects {
    pub ctx: DashboardContext,
    /// The engines that answer now, by name.
    engines: HashMap<String, Engine>,
    tx: UnboundedSender<Msg>,
    notices: UnboundedSender<SessionNotice>,
    bottles: HashMap<BottleId, LiveBottle>,
    /// The engines leftovers were looked for on (once each, at its first
    /// connection).
    looked_for_leftovers: std::collections::HashSet<String>,
    /// One image build at a time: a second launch waits and then finds the
    /// image the first one built, instead of building it again.
    image_lock: Arc<tokio::sync::Mutex<()>>,
    /// The followers of the agents' work (diff pane, overlaps).
    work: work::WorkWatchers,
}

impl Effects {
    pub fn new(
        ctx: DashboardContext,
        tx: UnboundedSender<Msg>,
        notices: UnboundedSender<SessionNotice>,
    ) -> Self {
        Self {
            ctx,
            engines: HashMap::new(),
            tx,
            notices,
            bottles: HashMap::new(),
            looked_for_leftovers: std::collections::HashSet::new(),
            image_lock: Arc::default(),
            work: work::WorkWatchers::default(),
        }
    }

    /// The screens of the terminals open now.
    pub fn views(&self) -> impl Iterator<Item = crate::session::TermView> + '_ {
        self.bottles
            .values()
            .filter_map(|live| live.session.as_ref().map(Session::view))
    }

    /// Writes to a bottle's terminal what `bytes` makes of the modes its
    /// screen is in (application cursor keys, bracketed paste).
    fn write(&self, id: BottleId, bytes: impl FnOnce(InputModes) -> Vec<u8>) {
        let Some(session) = self.bottles.get(&id).and_then(|l| l.session.as_ref()) else {
            return;
        };
        let bytes = bytes(session.view().modes());
        if bytes.is_empty() {
            return;
        }
        if let Err(e) = session.write(bytes) {
            self.send(Event::Failure(e.to_string()));
        }
    }

    /// The screen of one bottle's terminal, when it is open.
    pub fn view_of(&self, id: BottleId) -> Option<crate::session::TermView> {
        self.bottles.get(&id)?.session.as_ref().map(Session::view)
    }

    /// Whether any bottle is launching or up.
    pub fn has_bottles(&self) -> bool {
        !self.bottles.is_empty()
    }

    fn bottle(&self, id: BottleId) -> Option<&Bottle> {
        self.bottles.get(&id)?.up.as_ref().map(|(bottle, _)| bottle)
    }

    /// The engine a bottle runs on, while it answers.
    fn engine_of(&self, id: BottleId) -> Option<Engine> {
        self.engines.get(&self.bottles.get(&id)?.engine).cloned()
    }

    /// The engine an agent's bottles run on, while it answers, and its name.
    fn engine_for(&self, resolved: &ResolvedAgent) -> (String, Option<Engine>) {
        let name = crate::settings::engine_label(resolved.bottle.context.as_deref()).to_owned();
        let engine = self.engines.get(&name).cloned();
        (name, engine)
    }

    fn send(&self, event: Event) {
        let _ = self.tx.send(Msg::Event(event));
    }

    /// Runs one effect. Returns what to do when the model asked to quit.
    pub fn run(&mut self, effect: Effect) -> Option<QuitRequest> {
        match effect {
            Effect::Resolve { agent } => self.resolve(agent),
            Effect::Launch {
                id,
                resolved,
                answers,
                rows,
                cols,
            } => self.launch(id, resolved, &answers, (rows, cols)),
            Effect::Adopt {
                id,
                session,
                resolved,
                rows,
                cols,
            } => self.adopt(id, session, &resolved, (rows, cols)),
            Effect::Kill { id, collect } => self.kill(id, collect),
            Effect::Collect { id } => self.collect(id),
            Effect::CheckWork { ids, then } => self.check_work(ids, then),
            Effect::WatchWork { id, file } => self.watch_work(id, file),
            Effect::Key { id, key } => {
                self.write(id, |modes| encode_key(&key, modes).unwrap_or_default());
            }
            Effect::Paste { id, text } => self.write(id, |modes| encode_paste(&text, modes)),
            Effect::ResizeSessions { rows, cols } => {
                let sessions = self.bottles.values().filter_map(|l| l.session.as_ref());
                for session in sessions {
                    if let Err(e) = session.resize(rows, cols) {
                        self.send(Event::Failure(e.to_string()));
                    }
                }
            }
            Effect::AllowHost { id, host } => self.allow(id, host),
            Effect::SaveAllowHost { file, bottle, host } => self.save_host(file, bottle, host),
            Effect::RestartSidecar { id } => self.restart_sidecar(id),
            Effect::Reopen { id, rows, cols } => self.reopen(id, rows, cols),
            Effect::RemoveLeftovers { sessions } => self.remove_leftovers(sessions),
            Effect::Quit { teardown, collect } => {
                return Some(QuitRequest { teardown, collect });
            }
        }
        None
    }

    fn resolve(&self, agent: String) {
        let result = match (&self.ctx.manifest, self.ctx.resolve_context()) {
            (Ok(manifest), Some(rc)) => crate::manifest::resolve(manifest, &agent, &rc)
                .map(Box::new)
                .map_err(|e| e.to_string()),
            _ => Err("the manifest did not load".to_owned()),
        };
        self.send(Event::Resolved { agent, result });
    }

    fn launch(
        &mut self,
        id: BottleId,
        resolved: Box<ResolvedAgent>,
        answers: &[(String, Secret)],
        size: (u16, u16),
    ) {
        let (name, engine) = self.engine_for(&resolved);
        let Some(engine) = engine else {
            self.send(Event::LaunchFailed {
                id,
                reason: format!("the Docker engine {name} is not connected"),
            });
            return;
        };
        let plan = self.exec_plan(&resolved, answers);
        let watched = resolved.granted_values(&plan.agent_env);
        let images = self.ctx.images.clone();
        let settings = self.ctx.settings.clone();
        let tx = self.tx.clone();
        let image_lock = Arc::clone(&self.image_lock);
        // Images missing on another engine are copied from the default one.
        let default = (name != DEFAULT_ENGINE)
            .then(|| self.engines.get(DEFAULT_ENGINE).cloned())
            .flatten();
        let engine_name = name.clone();
        let task = tokio::spawn(async move {
            let progress = |p: Progress| {
                let _ = tx.send(Msg::Event(Event::LaunchProgress { id, progress: p }));
            };
            let images = if let Some(images) = images {
                Ok(images)
            } else {
                let _one_build = image_lock.lock().await;
                let on = (&engine, engine_name.as_str(), default.as_ref());
                find_images(on, &settings, &progress).await
            };
            let result = match (images, locate_workspace(&resolved).await) {
                (Ok(images), Ok(workspace)) => {
                    let claude = (&plan, size);
                    let what = (resolved.as_ref(), workspace.as_ref());
                    launch_bottle(&engine, what, &watched, &images, claude, &progress).await
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            let msg = match result {
                Ok(bottle) => Msg::BottleUp {
                    id,
                    bottle: Box::new(bottle),
                    plan,
                },
                Err(reason) => Msg::LaunchFailed { id, reason },
            };
            let _ = tx.send(msg);
        });
        let live = self.bottles.entry(id).or_default();
        live.launch = Some(task);
        live.engine = name;
    }

    /// Finds a kept bottle again: starts it if it stopped, starts claude in
    /// it if claude ended (with `--continue`, so the conversation goes on),
    /// then shows it without displacing another viewer.
    fn adopt(&mut self, id: BottleId, session: String, resolved: &ResolvedAgent, size: (u16, u16)) {
        let (name, Some(engine)) = self.engine_for(resolved) else {
            return;
        };
        let mut plan = self.exec_plan(resolved, &[]);
        if plan.command.first().is_some_and(|c| c == "claude") {
            plan.command = vec!["claude".into(), "--continue".into()];
        }
        let watches_secrets = !resolved.granted_values(&plan.agent_env).is_empty();
        let resolved = resolved.clone();
        let tx = self.tx.clone();
        let task = tokio::spawn(async move {
            let found = bottle::reattach(&engine, &resolved, &session, watches_secrets).await;
            let msg = match found {
                Ok(bottle) => {
                    let container = bottle.agent_container.clone();
                    let served = holder::serve_again(
                        &engine,
                        &container,
                        &plan.command,
                        plan.serve_env(),
                        size,
                    )
                    .await;
                    // A viewer whose process is gone holds nothing.
                    let status = holder::status(&engine, &container).await.ok().flatten();
                    let take_over = status.is_some_and(|s| s.live_viewer().is_none());
                    match served {
                        Ok(()) => Msg::Adopted {
                            id,
                            bottle: Box::new(bottle),
                            plan,
                            take_over,
                        },
                        Err(e) => Msg::LaunchFailed {
                            id,
                            reason: e.to_string(),
                        },
                    }
                }
                Err(e) => Msg::LaunchFailed {
                    id,
                    reason: format!("the kept bottle could not be started again: {e}"),
                },
            };
            let _ = tx.send(msg);
        });
        let live = self.bottles.entry(id).or_default();
        live.launch = Some(task);
        live.engine = name;
    }

    /// The values go to the terminal process's environment only.
    fn exec_plan(&self, resolved: &ResolvedAgent, answers: &[(String, Secret)]) -> ExecPlan {
        let answers: Vec<(String, String)> = answers
            .iter()
            .map(|(n, s)| (n.clone(), s.expose().to_owned()))
            .collect();
        let agent_env = agent_env(resolved, &answers, self.ctx.settings.token.as_deref());
        let mut command = self.ctx.agent_command.clone();
        if self.ctx.append_prompt {
            command.extend(resolved.agent.prompt.clone());
        }
        ExecPlan {
            agent_env,
            command,
            colours: self.ctx.settings.colours,
        }
    }

    /// The launch failed: what the model hears of it.
    pub fn launch_failed(&mut self, id: BottleId, reason: String) -> Event {
        match self.bottles.remove(&id) {
            Some(live) if live.killed => Event::KillDone { id, result: Ok(()) },
            _ => Event::LaunchFailed { id, reason },
        }
    }

    /// The bottle is up: start its terminal and follow its sidecar (or
    /// remove it, when it was killed while launching).
    /// `size` is the PTY size now, which may differ from the one at launch.
    /// `take_over`: displace another viewer (a fresh launch has none; a
    /// kept bottle found again may be shown elsewhere, and is not taken).
    pub fn bottle_up(
        &mut self,
        id: BottleId,
        bottle: Bottle,
        plan: ExecPlan,
        size: (u16, u16),
        take_over: bool,
    ) -> Option<Event> {
        if self.bottles.get(&id).is_none_or(|live| live.killed) {
            let engine = self.engine_of(id);
            self.bottles.remove(&id);
            self.tear_down_on(engine, id, bottle);
            return None;
        }
        let context = self.bottles.get(&id).map(|live| live.engine.clone());
        let viewer = Viewer {
            take_over,
            ..viewer(&bottle, context.as_deref())
        };
        let result = Session::spawn(id, &viewer.pty_spec(size.0, size.1), self.notices.clone());
        if let Some(origin) = &bottle.workspace {
            self.send(Event::Workspace {
                id,
                repo: origin.repo.clone(),
            });
        }
        let live = self.bottles.entry(id).or_default();
        // The launch task is the one sending this: it has ended.
        live.launch = None;
        live.up = Some((bottle, plan));
        self.follow_egress(id, 0);
        self.rewatch_overlaps();
        match result {
            Ok(session) => {
                if let Some(live) = self.bottles.get_mut(&id) {
                    live.session = Some(session);
                }
                Some(Event::Launched { id })
            }
            Err(e) => Some(Event::LaunchFailed {
                id,
                reason: format!("the bottle is up but its terminal did not start: {e}"),
            }),
        }
    }

    /// Follows the bottle's sidecar log from `since` (0: from its start, a
    /// fresh bottle), replacing any follower. Following again (`since` > 0)
    /// first says whether the sidecar runs. When the log ends the sidecar
    /// stopped, unless the engine is away (then it is followed again when the
    /// engine is back).
    fn follow_egress(&mut self, id: BottleId, since: i32) {
        let (Some(engine), Some(bottle)) = (self.engine_of(id), self.bottle(id)) else {
            return;
        };
        let sidecar = bottle.sidecar_container.clone();
        let tx = self.tx.clone();
        let send = move |event| tx.send(Msg::Event(event)).is_ok();
        let task = tokio::spawn(async move {
            if since > 0 {
                match sidecar::is_running(&engine, &sidecar).await {
                    Ok(true) => {
                        send(Event::EgressUp { id });
                    }
                    Ok(false) => {
                        let reason = "the egress sidecar is stopped".to_owned();
                        send(Event::EgressDown { id, reason });
                        return;
                    }
                    Err(_) => return,
                }
            }
            let forward = |line| send(Event::Egress { id, line });
            let ended = logs::follow_since(&engine, &sidecar, since, forward).await;
            let reason = match (sidecar::is_running(&engine, &sidecar).await, ended) {
                (Ok(false), _) => "the egress sidecar stopped".to_owned(),
                (Ok(true), Err(e)) => format!("its log could not be followed: {e}"),
                (Ok(true), Ok(())) => "its log ended".to_owned(),
                (Err(_), _) => return,
            };
            send(Event::EgressDown { id, reason });
        });
        if let Some(old) = self.bottles.get_mut(&id).and_then(|l| l.tail.replace(task)) {
            old.abort();
        }
    }

    /// The engine called `name` answers (again): use it, follow the
    /// sidecars of its bottles again, and look once for bottles a gone
    /// dashboard left behind on it.
    pub fn engine_ready(&mut self, name: &str, engine: Engine) {
        self.engines.insert(name.to_owned(), engine.clone());
        let since = unix_now();
        let ids: Vec<BottleId> = self
            .bottles
            .iter()
            .filter(|(_, live)| live.up.is_some() && live.engine == name)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.follow_egress(id, since);
        }
        if !self.looked_for_leftovers.insert(name.to_owned()) {
            return;
        }
        let Ok(manifest) = &self.ctx.manifest else {
            return;
        };
        // Only the agents whose bottles run on this engine: an engine
        // reached under two names is looked at once for each agent.
        let agents: Vec<String> = manifest
            .agents
            .values()
            .map(|a| a.name.clone())
            .filter(|agent| self.ctx.engine_of_agent(agent) == name)
            .collect();
        let manifest = manifest.clone();
        let resolve_context = self.ctx.resolve_context();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let Ok(sessions) = reaper::list_sessions(&engine).await else {
                return;
            };
            let kept: Vec<KeptBottle> = sessions
                .iter()
                // Kept by any dashboard, gone or not: one shown elsewhere
                // shows here as held, and can be taken over.
                .filter(|s| s.kept && s.agent_container.is_some())
                .filter(|s| agents.contains(&s.agent))
                .filter_map(|s| {
                    let rc = resolve_context.as_ref()?;
                    let resolved = crate::manifest::resolve(&manifest, &s.agent, rc).ok()?;
                    Some(KeptBottle {
                        session: s.session.clone(),
                        resolved: Box::new(resolved),
                    })
                })
                .collect();
            if !kept.is_empty() {
                let _ = tx.send(Msg::Event(Event::KeptFound(kept)));
            }
            let orphans: Vec<_> = sessions
                .into_iter()
                .filter(reaper::SessionResources::is_orphaned)
                .collect();
            let leftovers: Vec<Leftover> = orphans
                .into_iter()
                .filter(|s| agents.contains(&s.agent))
                .map(|s| Leftover {
                    session: s.session,
                    agent: s.agent,
                    containers: s.containers.into_iter().map(|(_, n)| n).collect(),
                    networks: s.networks.len(),
                })
                .collect();
            if !leftovers.is_empty() {
                let _ = tx.send(Msg::Event(Event::Leftovers(leftovers)));
            }
        });
    }

    fn restart_sidecar(&self, id: BottleId) {
        let (Some(engine), Some(bottle)) = (self.engine_of(id), self.bottle(id)) else {
            self.send(Event::Failure("the bottle is not running".into()));
            return;
        };
        let sidecar = bottle.sidecar_container.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let since = unix_now();
            let msg = match sidecar::restart(&engine, &sidecar).await {
                Ok(()) => Msg::SidecarRestarted { id, since },
                Err(e) => Msg::Event(Event::Failure(format!(
                    "could not restart the egress sidecar: {e}"
                ))),
            };
            let _ = tx.send(msg);
        });
    }

    pub fn sidecar_restarted(&mut self, id: BottleId, since: i32) {
        self.follow_egress(id, since);
    }

    /// A new terminal in a bottle whose terminal ended: claude started again
    /// under a new holder if it ended, then a viewer that takes over from
    /// any other.
    fn reopen(&mut self, id: BottleId, rows: u16, cols: u16) {
        let up = self.bottles.get(&id).and_then(|live| live.up.as_ref());
        let (Some(engine), Some((bottle, plan))) = (self.engine_of(id), up) else {
            self.send(Event::SessionExited { id, code: None });
            self.send(Event::Failure("the bottle is gone".into()));
            return;
        };
        let container = bottle.agent_container.clone();
        let plan = plan.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let served = holder::serve_again(
                &engine,
                &container,
                &plan.command,
                plan.serve_env(),
                (rows, cols),
            )
            .await;
            match served {
                Ok(()) => {
                    let _ = tx.send(Msg::Serving { id, rows, cols });
                }
                Err(e) => {
                    let _ = tx.send(Msg::Event(Event::SessionExited { id, code: None }));
                    let reason = format!("claude did not start again: {e}");
                    let _ = tx.send(Msg::Event(Event::Failure(reason)));
                }
            }
        });
    }

    /// Claude runs under its holder: show it in a new terminal.
    pub fn open_viewer(&mut self, id: BottleId, rows: u16, cols: u16) {
        let Some(live) = self.bottles.get_mut(&id) else {
            return;
        };
        let Some((bottle, _)) = &live.up else {
            return;
        };
        let spec = viewer(bottle, Some(&live.engine)).pty_spec(rows, cols);
        if let Some(mut old) = live.session.take() {
            // A watching terminal replaced by one that types: its end is
            // no news to the tab.
            old.end_quietly();
        }
        match Session::spawn(id, &spec, self.notices.clone()) {
            Ok(session) => {
                live.session = Some(session);
                self.send(Event::Launched { id });
            }
            Err(e) => {
                self.send(Event::SessionExited { id, code: None });
                self.send(Event::Failure(format!("the terminal did not start: {e}")));
            }
        }
    }

    /// Removes leftovers from whichever engine holds each.
    fn remove_leftovers(&self, sessions: Vec<String>) {
        if self.engines.is_empty() {
            self.send(Event::LeftoversRemoved(Err(
                "the Docker engine is not connected".into(),
            )));
            return;
        }
        let engines: Vec<Engine> = self.engines.values().cloned().collect();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut removed = 0;
            let mut failures = Vec::new();
            let mut found = Vec::new();
            for engine in &engines {
                for resources in reaper::list_sessions(engine).await.unwrap_or_default() {
                    found.push((engine, resources));
                }
            }
            for session in &sessions {
                let Some((engine, resources)) = found.iter().find(|(_, s)| s.session == *session)
                else {
                    continue;
                };
                // An agent's work in a leftover is collected as a branch first;
                // a leftover whose work cannot be collected stays.
                if let Err(e) = crate::docker::workspace::collect_session(engine, resources).await {
                    failures.push(format!("{session} kept: its work was not collected ({e})"));
                    continue;
                }
                match reaper::remove_session(engine, session).await {
                    Ok(()) => removed += 1,
                    Err(e) => failures.push(e.to_string()),
                }
            }
            let result = if failures.is_empty() {
                Ok(removed)
            } else {
                Err(failures.join("; "))
            };
            let _ = tx.send(Msg::Event(Event::LeftoversRemoved(result)));
        });
    }

    fn kill(&mut self, id: BottleId, collect: bool) {
        if collect && self.bottle(id).is_some() {
            self.collect_then_kill(id);
            return;
        }
        if let Some(live) = self.bottles.get_mut(&id) {
            if live.up.is_none() && live.launch.is_some() {
                // Removed when the launch ends, whichever way it ends.
                live.killed = true;
                return;
            }
        }
        // Dropping it ends its terminal and its tasks.
        let engine = self.engine_of(id);
        let bottle = self
            .bottles
            .remove(&id)
            .and_then(|mut live| live.up.take())
            .map(|(bottle, _)| bottle);
        match bottle {
            Some(bottle) => self.tear_down_on(engine, id, bottle),
            None => self.send(Event::KillDone { id, result: Ok(()) }),
        }
        self.rewatch_overlaps();
    }

    /// Removes the bottle from its engine, off the loop.
    fn tear_down_on(&self, engine: Option<Engine>, id: BottleId, bottle: Bottle) {
        let Some(engine) = engine else {
            self.send(Event::KillDone {
                id,
                result: Err(
                    "the Docker engine is not connected; `claude-bottle gc` removes \
                     the bottle later"
                        .into(),
                ),
            });
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = bottle.teardown(&engine).await.map_err(|e| e.to_string());
            let _ = tx.send(Msg::Event(Event::KillDone { id, result }));
        });
    }

    fn allow(&mut self, id: BottleId, host: String) {
        let (Some(engine), Some(bottle)) = (self.engine_of(id), self.bottle(id)) else {
            self.send(Event::AllowDone {
                id,
                host,
                result: Err("the bottle is not running".into()),
            });
            return;
        };
        let mut settings = bottle.sidecar_settings.clone();
        settings.allowlist.push(host.clone());
        let container = bottle.sidecar_container.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = sidecar::reload(&engine, &container, &settings).await;
            if result.is_ok() {
                let _ = tx.send(Msg::Allowed { id, settings });
            }
            let result = result.map_err(|e| e.to_string());
            let _ = tx.send(Msg::Event(Event::AllowDone { id, host, result }));
        });
    }

    /// Writes the host into the manifest file, off the loop.
    fn save_host(&self, file: std::path::PathBuf, bottle: String, host: String) {
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = add_allow_host_to_file(&file, &bottle, &host).map_err(|e| e.to_string());
            let _ = tx.send(Msg::Event(Event::SaveDone { host, file, result }));
        });
    }

    pub fn allowed(&mut self, id: BottleId, settings: SidecarSettings) {
        if let Some((bottle, _)) = self.bottles.get_mut(&id).and_then(|l| l.up.as_mut()) {
            bottle.sidecar_settings = settings;
        }
    }

    /// Ends every terminal and, when asked, removes every bottle this process
    /// started, half-launched ones included (found by their owner label).
    /// With `collect`, each bottle's uncollected work is collected first;
    /// a bottle whose work could not be collected is left (and said so).
    pub async fn shutdown(&mut self, quit: QuitRequest) -> Result<(), String> {
        let with_work: Vec<(Bottle, Option<Engine>)> = self
            .bottles
            .iter()
            .filter_map(|(id, live)| Some((live.up.as_ref()?.0.clone(), self.engine_of(*id))))
            .filter(|(bottle, _)| bottle.workspace.is_some())
            .collect();
        // Dropping each ends its terminal and its tasks.
        self.bottles.clear();
        self.work = work::WorkWatchers::default();
        if !quit.teardown {
            return Ok(());
        }
        let mut kept = Vec::new();
        let mut failures: Vec<String> = Vec::new();
        if quit.collect {
            for (bottle, engine) in &with_work {
                let collected = match engine {
                    Some(engine) => work::collect_bottle(engine, bottle).await,
                    None => Err("its engine does not answer".to_owned()),
                };
                if let Err(why) = collected {
                    failures.push(format!(
                        "{}'s work could not be collected ({why}); its bottle stays \
                         (`claude-bottle collect {}`)",
                        bottle.agent, bottle.session
                    ));
                    kept.push(bottle.session.clone());
                }
            }
        }
        let me = labels::Owner::current();
        for (name, engine) in &self.engines {
            let sessions = match reaper::list_sessions(engine).await {
                Ok(sessions) => sessions,
                Err(e) => {
                    failures.push(format!("engine {name}: {e}"));
                    continue;
                }
            };
            let mine = sessions
                .iter()
                .filter(|s| s.owner.as_ref() == Some(&me) && !kept.contains(&s.session));
            let removals = mine.map(|s| reaper::remove_session(engine, &s.session));
            failures.extend(
                futures_util::future::join_all(removals)
                    .await
                    .into_iter()
                    .filter_map(|r| r.err().map(|e| e.to_string())),
            );
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("; "))
        }
    }
}

/// Seconds since the Unix epoch, as the engine's `since` takes them.
fn unix_now() -> i32 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// Launches the bottle, reporting each step.
/// The dashboard's terminal on a bottle's claude: it takes over from any
/// other viewer (the user asked for this tab), and every key is claude's.
/// `engine`: the name of the engine it runs on (a docker context, or the
/// default).
fn viewer(bottle: &Bottle, engine: Option<&str>) -> Viewer {
    Viewer {
        container: bottle.agent_container.clone(),
        who: holder::viewer_name("a dashboard"),
        take_over: true,
        detach_key: false,
        context: engine
            .filter(|name| *name != crate::settings::DEFAULT_ENGINE)
            .map(str::to_owned),
    }
}

/// Launches the bottle and starts claude in it under its holder.
async fn launch_bottle(
    engine: &Engine,
    (resolved, workspace): (&ResolvedAgent, Option<&Located>),
    watched: &[String],
    settings: &LaunchSettings,
    (plan, size): (&ExecPlan, (u16, u16)),
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<Bottle, String> {
    let bottle = bottle::launch_with_workspace(
        engine,
        resolved,
        watched,
        settings,
        workspace,
        &mut |step| {
            progress(Progress::Step(step));
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let served = holder::serve(
        engine,
        &bottle.agent_container,
        &plan.command,
        plan.serve_env(),
        size,
    )
    .await;
    if let Err(e) = served {
        let _ = bottle.teardown(engine).await;
        return Err(e.to_string());
    }
    Ok(bottle)
}

/// The repository the agent's workspace names, found from where the
/// dashboard was started; `None` without a workspace.
async fn locate_workspace(resolved: &ResolvedAgent) -> Result<Option<Located>, String> {
    let Some(spec) = resolved.agent.workspace.clone() else {
        return Ok(None);
    };
    let cwd = std::env::current_dir().map_err(|e| format!("reading the current folder: {e}"))?;
    tokio::task::spawn_blocking(move || crate::workspace::locate(&spec, &cwd))
        .await
        .map_err(|e| e.to_string())?
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The agent image (copied from the default engine or built now if
/// missing, with its output as progress) and the sidecar image (pulled or
/// copied if missing), on the engine called `name`.
async fn find_images(
    (engine, name, default): (&Engine, &str, Option<&Engine>),
    settings: &Settings,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<LaunchSettings, String> {
    let mut on_build = |p: &BuildProgress| {
        let line = match p {
            BuildProgress::Started { tag } => format!("building {tag}"),
            BuildProgress::Output(l) | BuildProgress::Status(l) => l.trim().to_owned(),
        };
        if !line.is_empty() {
            progress(Progress::BuildingImage(line));
        }
    };
    let from = default.map(|engine| CopySource {
        name: DEFAULT_ENGINE,
        engine,
    });
    let images = (&settings.agent_image, settings.pipelock_image.as_str());
    let agent_image = images_ready(engine, name, images, from, &mut on_build).await?;
    Ok(LaunchSettings {
        agent_image,
        sidecar_image: settings.pipelock_image.clone(),
        subnet_pool: settings.subnet_pool,
        kept: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::resolved;
    use crate::manifest::source::ManifestSource;
    use crate::settings::{CLAUDE_TOKEN_VAR, TOKEN_VAR};

    fn runtime(token: Option<&str>, command: &[&str], append_prompt: bool) -> Effects {
        let settings = Settings::from_lookup(|name| {
            (name == TOKEN_VAR).then(|| token.map(std::ffi::OsString::from))?
        })
        .unwrap();
        let ctx = DashboardContext {
            source: ManifestSource::from_cli(&[]),
            manifest: Err(crate::app::ManifestProblem::Missing),
            left_out: Vec::new(),
            entry_errors: crate::manifest::ManifestErrors::default(),
            settings,
            images: None,
            agent_command: command.iter().map(|s| (*s).to_owned()).collect(),
            append_prompt,
            escape_key: Default::default(),
        };
        let (tx, _) = tokio::sync::mpsc::unbounded_channel();
        let (notices, _) = tokio::sync::mpsc::unbounded_channel();
        Effects::new(ctx, tx, notices)
    }

    #[test]
    fn secrets_go_to_the_environment_never_to_argv() {
        let rt = runtime(Some("sk-ant-oat01-token"), &["claude"], true);
        let answers = vec![("DB_PASSWORD".to_owned(), Secret::new("hunter2".into()))];
        let plan = rt.exec_plan(&resolved("alpha"), &answers);
        assert_eq!(plan.command.join(" "), "claude fix the tests");
        let env = plan.serve_env();
        for secret in ["hunter2", "ghp_secret", "sk-ant-oat01-token"] {
            assert!(!plan.command.iter().any(|a| a.contains(secret)));
            assert!(
                env.iter().any(|v| v.ends_with(secret)),
                "{secret} not in the env"
            );
        }
        assert!(env.contains(&"CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-token".to_owned()));
    }

    /// Allows a host from a denial, answers the save offer with `answer`
    /// and runs what the model asks; returns the file afterwards.
    async fn answer_the_save_offer(answer: char) -> (String, String) {
        use crate::app::fixtures::{app, blocked, ch, running};
        use crate::app::update;
        const FILE: &str = "{\n  \"bottles\": { \"web\": { \"egress\": { \"allowlist\": [\"docs.rs\"] } } },\n  \"agents\": {}\n}\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claude-bottle.json");
        std::fs::write(&path, FILE).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (notices, _) = tokio::sync::mpsc::unbounded_channel();
        let mut rt = Effects::new(runtime(None, &["sh"], false).ctx, tx, notices);
        let mut a = app();
        let id = running(&mut a, "alpha", "");
        a.tabs[0].manifest_file.clone_from(&path);
        let line = blocked("evil.example", "2026-04-28T15:05:20Z");
        update(&mut a, Event::Egress { id, line });
        update(&mut a, ch('e'));
        update(&mut a, ch('a'));
        let host = "evil.example".to_owned();
        let allowed = Event::AllowDone {
            id,
            host,
            result: Ok(()),
        };
        let mut effects = update(&mut a, allowed);
        effects.extend(update(&mut a, ch(answer)));
        let expected = usize::from(answer == 'y');
        assert_eq!(effects.len(), expected, "{effects:?}");
        for effect in effects {
            assert_eq!(rt.run(effect), None);
            match rx.recv().await {
                Some(Msg::Event(event)) => update(&mut a, event),
                other => panic!("{other:?}"),
            };
        }
        (FILE.to_owned(), std::fs::read_to_string(&path).unwrap())
    }

    #[tokio::test]
    async fn the_manifest_file_changes_only_on_yes() {
        let (before, after) = answer_the_save_offer('n').await;
        assert_eq!(before, after);
        let (before, after) = answer_the_save_offer('y').await;
        assert_eq!(
            after,
            before.replace(r#"["docs.rs"]"#, r#"["docs.rs", "evil.example"]"#)
        );
    }

    #[tokio::test]
    async fn a_bottle_killed_while_launching_is_removed_when_the_launch_ends() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (notices, _) = tokio::sync::mpsc::unbounded_channel();
        let mut fx = Effects::new(runtime(None, &["sh"], false).ctx, tx, notices);
        for (id, failure) in [(1, "refused"), (2, "")] {
            let mut live = LiveBottle::default();
            live.launch = Some(tokio::spawn(std::future::pending::<()>()));
            fx.bottles.insert(id, live);
            if failure.is_empty() {
                // Not killed: the failure is the model's to show.
                let event = fx.launch_failed(id, "no image".into());
                assert!(matches!(event, Event::LaunchFailed { .. }), "{event:?}");
                continue;
            }
            assert_eq!(fx.run(Effect::Kill { id, collect: false }), None);
            assert!(
                rx.try_recv().is_err(),
                "nothing is said before the launch ends"
            );
            assert!(fx.has_bottles(), "the launch goes on");
            let event = fx.launch_failed(id, failure.into());
            assert!(
                matches!(
                    event,
                    Event::KillDone {
                        id: 1,
                        result: Ok(())
                    }
                ),
                "{event:?}"
            );
        }
        assert!(!fx.has_bottles());
    }

    #[test]
    fn a_custom_command_gets_no_prompt_and_no_token_when_there_is_none() {
        let rt = runtime(None, &["sh", "-l"], false);
        let plan = rt.exec_plan(&resolved("alpha"), &[]);
        assert_eq!(plan.command, vec!["sh", "-l"]);
        assert!(!plan.env().iter().any(|(n, _)| n == CLAUDE_TOKEN_VAR));
    }
}
