//! The loop: input, session notices and background results in; `update`;
//! effects out; a frame drawn when something changed.
//!
//! Drawing is throttled to one frame per [`FRAME`] and happens only when an
//! event arrived since the last frame: with nothing happening the loop sleeps
//! in `select!` with no timer armed, so an idle dashboard never wakes up.

mod context;
mod effects;

use std::time::Duration;

use crossterm::event::{Event as TermEvent, EventStream, KeyEventKind};
use futures_util::StreamExt as _;
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::Instant;

pub use self::context::DashboardContext;
use self::effects::{Effects, Msg, QuitRequest};
use crate::app::{App, EngineStatus, Event, update};
use crate::docker::engine::{Engine, EngineAddress};
use crate::session::SessionNotice;
use crate::terminal::{self, Tui};

/// The shortest time between two frames (about 60 per second).
const FRAME: Duration = Duration::from_millis(16);
/// How often to look for an engine that did not answer.
const ENGINE_RETRY: Duration = Duration::from_secs(3);
/// How long quitting may spend removing bottles.
const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(60);
/// Leave with every bottle kept working (a closed terminal).
const KEEP: QuitRequest = QuitRequest {
    teardown: false,
    collect: false,
};

/// Runs the dashboard until the user quits; returns the exit code.
pub async fn run_dashboard(ctx: DashboardContext) -> anyhow::Result<i32> {
    let mut tui = terminal::init()?;
    let result = event_loop(&mut tui, ctx).await;
    terminal::restore();
    let (code, problem) = result?;
    if let Some(problem) = problem {
        eprintln!("claude-bottle: {problem}");
        return Ok(code.max(1));
    }
    Ok(code)
}

/// Returns the exit code, and a problem to print after the terminal is
/// restored, if any.
async fn event_loop(tui: &mut Tui, ctx: DashboardContext) -> anyhow::Result<(i32, Option<String>)> {
    let mut app = ctx.initial_app();
    let size = tui.size()?;
    update(
        &mut app,
        Event::Resize {
            cols: size.width,
            rows: size.height,
        },
    );

    let colours = ctx.settings.colours;
    let draw = |frame: &mut ratatui::Frame<'_>, app: &crate::app::App, screens: &Effects| {
        crate::ui::draw(frame, app, screens);
        if !colours.truecolor {
            crate::ui::colours::lower_to_256(frame.buffer_mut());
        }
    };
    let (tx, mut messages) = unbounded_channel::<Msg>();
    let (notice_tx, mut notices) = unbounded_channel::<SessionNotice>();
    connect_engines(&ctx, &tx);
    let mut runtime = Effects::new(ctx, tx, notice_tx);

    let mut input = EventStream::new();
    // SIGTERM or Ctrl-C: tear down and leave. SIGHUP (the terminal closed):
    // leave, the bottles and their claude running, as "keep" does.
    let stop = crate::signals::stop_requested();
    tokio::pin!(stop);
    let mut code = 0;
    // A broken terminal (closed, EIO) ends the loop, the bottles kept
    // working; it is reported after.
    let mut broken: Option<anyhow::Error> = None;
    let mut dirty = true;
    let mut next_frame = Instant::now();
    let mut held = HeldUpdates::default();
    let quit = loop {
        let next_hold = held.next();
        if dirty && Instant::now() >= next_frame {
            // Take the dirty marks first: output that lands during the draw
            // sends a fresh notice and gets its own frame.
            for view in runtime.views() {
                view.take_dirty();
            }
            if let Err(e) = tui.draw(|frame| draw(frame, &app, &runtime)) {
                broken = Some(e.into());
                break KEEP;
            }
            dirty = false;
            next_frame = Instant::now() + FRAME;
        }
        let event = tokio::select! {
            input_event = input.next() => match input_event {
                Some(Ok(e)) => translate(e),
                // The terminal closed: leave the bottles working, as on
                // SIGHUP.
                Some(Err(e)) => {
                    broken = Some(e.into());
                    break KEEP;
                }
                None => break KEEP,
            },
            Some(notice) = notices.recv() => held.take(notice).map(|n| on_notice(&runtime, n)),
            () = tokio::time::sleep_until(next_hold.map_or_else(Instant::now, Instant::from_std)),
                if next_hold.is_some() => held.show_expired(&runtime),
            Some(msg) = messages.recv() => on_message(&mut runtime, &app, msg),
            () = tokio::time::sleep_until(next_frame), if dirty => None,
            signal_code = &mut stop => {
                code = signal_code;
                // Nobody is there to ask: the agents' work is collected.
                let teardown = signal_code != crate::signals::HANGUP_CODE;
                break QuitRequest { teardown, collect: teardown };
            }
        };
        let Some(event) = event else { continue };
        dirty |= changes_screen(&app, &event);
        let mut quit = None;
        for effect in update(&mut app, event) {
            if let Some(request) = runtime.run(effect) {
                quit = Some(request);
            }
        }
        if let Some(request) = quit {
            break request;
        }
    };
    if quit.teardown && runtime.has_bottles() && broken.is_none() {
        app.info("removing bottles…");
        let _ = tui.draw(|frame| draw(frame, &app, &runtime));
    }
    let problem = match tokio::time::timeout(TEARDOWN_TIMEOUT, runtime.shutdown(quit)).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!(
            "some bottles could not be removed ({e}); `claude-bottle gc` removes them"
        )),
        Err(_) => Some(
            "removing the bottles took too long; `claude-bottle gc` removes what is left".into(),
        ),
    };
    match broken {
        Some(e) => {
            let what = problem.unwrap_or_else(|| {
                "its bottles keep working (`claude-bottle ps`, `attach`)".into()
            });
            Err(e.context(format!("the terminal stopped working; {what}")))
        }
        None => Ok((code, problem)),
    }
}

/// One connection per engine, each reconnecting on its own; an engine a
/// context cannot name stays unavailable (the model knows why).
fn connect_engines(ctx: &DashboardContext, tx: &tokio::sync::mpsc::UnboundedSender<Msg>) {
    for (name, address) in ctx.engines() {
        if let Ok(address) = address {
            tokio::spawn(connect_engine(tx.clone(), name, address));
        }
    }
}

/// Connects to the engine, trying again every few seconds while it is away,
/// so starting dockerd is noticed without restarting the dashboard; once
/// connected, watches it (an idle event stream, no polling) and starts over
/// when it goes away. The loop hears only of changes.
async fn connect_engine(
    tx: tokio::sync::mpsc::UnboundedSender<Msg>,
    name: String,
    address: EngineAddress,
) {
    let send = |result| {
        let name = name.clone();
        tx.send(Msg::Engine { name, result }).is_ok()
    };
    let mut last_error = None;
    loop {
        let result = match Engine::connect(&address).await {
            Ok(engine) => engine.info().await.map(|info| (engine, info.version)),
            Err(e) => Err(e),
        };
        match result {
            Ok((engine, version)) => {
                if !send(Ok((engine.clone(), version))) {
                    return;
                }
                let reason = engine.wait_until_lost().await;
                let text = format!("the Docker engine stopped answering ({reason})");
                if !send(Err(text.clone())) {
                    return;
                }
                last_error = Some(text);
            }
            Err(e) => {
                let text = e.to_string();
                if last_error.as_ref() != Some(&text) {
                    if !send(Err(text.clone())) {
                        return;
                    }
                    last_error = Some(text);
                }
            }
        }
        tokio::time::sleep(ENGINE_RETRY).await;
    }
}

fn translate(event: TermEvent) -> Option<Event> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => Some(Event::Key(key)),
        TermEvent::Paste(text) => Some(Event::Paste(text)),
        TermEvent::Mouse(mouse) => Some(Event::Mouse(mouse)),
        TermEvent::Resize(cols, rows) => Some(Event::Resize { cols, rows }),
        _ => None,
    }
}

/// A session's notice as the model's event; output carries the screen's
/// scrollback now, so the model scrolls by what is there.
fn on_notice(runtime: &Effects, notice: SessionNotice) -> Event {
    let output = |id, bell| Event::SessionOutput {
        id,
        bell,
        lines: runtime
            .view_of(id)
            .map(|view| view.scroll_state())
            .unwrap_or_default(),
    };
    match notice {
        // A held update changes nothing until the loop shows it.
        SessionNotice::Output(id) | SessionNotice::Held(id, _) => output(id, false),
        SessionNotice::Bell(id) => output(id, true),
        SessionNotice::Exited(id, code) => Event::SessionExited { id, code },
        SessionNotice::HeldElsewhere(id, who) => Event::HeldElsewhere { id, who },
    }
}

/// Synchronized updates held in the sessions, by when each must be shown
/// if its program never ends it; the loop arms a timer only while one is
/// held.
#[derive(Debug, Default)]
struct HeldUpdates(Vec<(u64, std::time::Instant)>);

impl HeldUpdates {
    /// Keeps a held update's deadline; every other notice passes on.
    fn take(&mut self, notice: SessionNotice) -> Option<SessionNotice> {
        match notice {
            SessionNotice::Held(id, deadline) => {
                self.0.push((id, deadline));
                None
            }
            other => Some(other),
        }
    }

    /// When the loop must wake to show one.
    fn next(&self) -> Option<std::time::Instant> {
        self.0.iter().map(|(_, deadline)| *deadline).min()
    }

    /// Shows the held updates whose time is up (an update that ended in
    /// time was shown already). One session's output is one event: the
    /// others stay due and come on the next turns of the loop.
    fn show_expired(&mut self, runtime: &Effects) -> Option<Event> {
        let now = std::time::Instant::now();
        while let Some(at) = self.0.iter().position(|(_, deadline)| *deadline <= now) {
            let (id, _) = self.0.swap_remove(at);
            if runtime
                .view_of(id)
                .is_some_and(|view| view.expire_sync(now))
            {
                return Some(on_notice(runtime, SessionNotice::Output(id)));
            }
        }
        None
    }
}

/// Whether an event can change what is on screen. Output of a tab that is
/// not shown only matters when it changes the tab's markers; a busy hidden
/// agent must not cost a frame per write.
fn changes_screen(app: &App, event: &Event) -> bool {
    let Event::SessionOutput { id, bell, .. } = event else {
        return true;
    };
    let shown = app.tab().is_some_and(|t| t.id == *id);
    let marked = app
        .tabs
        .iter()
        .find(|t| t.id == *id)
        .is_some_and(|t| t.unseen_output && (t.needs_attention || !bell));
    shown || !marked
}

fn on_message(runtime: &mut Effects, app: &App, msg: Msg) -> Option<Event> {
    match msg {
        Msg::Event(event) => Some(event),
        Msg::Engine {
            name,
            result: Ok((engine, version)),
        } => {
            runtime.engine_ready(&name, engine);
            Some(Event::EngineState(name, EngineStatus::Ready { version }))
        }
        Msg::SidecarRestarted { id, since } => {
            runtime.sidecar_restarted(id, since);
            None
        }
        Msg::Engine {
            name,
            result: Err(reason),
        } => Some(Event::EngineState(name, EngineStatus::Unavailable(reason))),
        Msg::BottleUp { id, bottle, plan } => {
            runtime.bottle_up(id, *bottle, plan, app.areas().pty_size(), true)
        }
        Msg::Adopted {
            id,
            bottle,
            plan,
            take_over,
        } => runtime.bottle_up(id, *bottle, plan, app.areas().pty_size(), take_over),
        Msg::Serving { id, rows, cols } => {
            runtime.open_viewer(id, rows, cols);
            None
        }
        Msg::LaunchFailed { id, reason } => Some(runtime.launch_failed(id, reason)),
        Msg::Allowed { id, settings } => {
            runtime.allowed(id, settings);
            None
        }
        Msg::Collected { id, result } => {
            runtime.collected_for_kill(id, result);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{app, running};

    #[test]
    fn hidden_output_redraws_only_when_it_changes_a_marker() {
        let mut a = app();
        let hidden = running(&mut a, "alpha", "");
        let shown = running(&mut a, "beta", "");
        let output = |id, bell| Event::SessionOutput {
            id,
            bell,
            lines: crate::session::ScrollState::default(),
        };
        assert!(changes_screen(&a, &output(shown, false)));
        assert!(
            changes_screen(&a, &output(hidden, false)),
            "first output sets a marker"
        );
        update(&mut a, output(hidden, false));
        assert!(!changes_screen(&a, &output(hidden, false)));
        assert!(
            changes_screen(&a, &output(hidden, true)),
            "a bell sets the other marker"
        );
        update(&mut a, output(hidden, true));
        assert!(!changes_screen(&a, &output(hidden, true)));
        assert!(changes_screen(&a, &Event::Failure("x".into())));
    }
}
