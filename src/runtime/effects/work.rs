//! The effects about the agents' work on their workspaces: collect, the
//! look before a teardown, and the followers behind the diff pane and the
//! overlap marks (each runs only while something shows what it finds).

use std::collections::HashMap;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::{Effects, Msg};
use crate::app::{AfterCheck, BottleId, Event};
use crate::docker::bottle::Bottle;
use crate::docker::engine::Engine;
use crate::docker::workspace::{self, CollectError, CollectTarget};
use crate::workspace::FileChange;

/// How often the diff pane's bottle is asked for its changes.
const DIFF_EVERY: Duration = Duration::from_secs(2);
/// How often bottles sharing a repository are asked, for the overlap marks.
const OVERLAP_EVERY: Duration = Duration::from_secs(5);

/// The follower tasks; each ends when replaced or dropped.
#[derive(Default)]
pub(super) struct WorkWatchers {
    diff: Option<JoinHandle<()>>,
    overlap: Option<JoinHandle<()>>,
    /// The bottles the overlap follower asks now (sorted ids).
    overlap_ids: Vec<BottleId>,
}

impl Drop for WorkWatchers {
    fn drop(&mut self) {
        for task in [self.diff.take(), self.overlap.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
    }
}

/// Collects one bottle's work with the default branch and cap.
pub(super) async fn collect_bottle(engine: &Engine, bottle: &Bottle) -> Result<String, String> {
    let Some(origin) = &bottle.workspace else {
        return Err("this bottle has no workspace".into());
    };
    let target = CollectTarget::for_bottle(origin, &bottle.agent, &bottle.session);
    match workspace::collect(engine, &bottle.agent_container, &bottle.agent, &target).await {
        Ok(collected) => Ok(collected.describe(&origin.repo)),
        Err(CollectError::Nothing(why)) => Ok(format!("nothing to collect: {why}")),
        Err(e) => Err(e.to_string()),
    }
}

impl Effects {
    fn workspace_bottle(&self, id: BottleId) -> Option<(Engine, Bottle)> {
        let bottle = self.bottle(id)?;
        bottle.workspace.as_ref()?;
        Some((self.engine_of(id)?, bottle.clone()))
    }

    /// `c`: collect, off the loop.
    pub(super) fn collect(&self, id: BottleId) {
        let Some((engine, bottle)) = self.workspace_bottle(id) else {
            self.send(Event::CollectDone {
                id,
                result: Err("the bottle is not up, or has no workspace".into()),
            });
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = collect_bottle(&engine, &bottle).await;
            let _ = tx.send(Msg::Event(Event::CollectDone { id, result }));
        });
    }

    /// Removes the bottle after collecting its work; if the collect fails
    /// the bottle stays, and the model hears why.
    pub(super) fn collect_then_kill(&self, id: BottleId) {
        let Some((engine, bottle)) = self.workspace_bottle(id) else {
            let _ = self.tx.send(Msg::Collected {
                id,
                result: Ok(String::new()),
            });
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = collect_bottle(&engine, &bottle).await;
            let _ = tx.send(Msg::Collected { id, result });
        });
    }

    /// The answer to a collect made before a kill.
    pub fn collected_for_kill(&mut self, id: BottleId, result: Result<String, String>) {
        match result {
            Ok(text) => {
                if !text.is_empty() {
                    self.send(Event::CollectDone {
                        id,
                        result: Ok(text),
                    });
                }
                self.kill(id, false);
            }
            Err(why) => self.send(Event::CollectDone {
                id,
                result: Err(format!("{why}; the bottle was not removed")),
            }),
        }
    }

    /// Which bottles hold work not collected.
    pub(super) fn check_work(&self, ids: Vec<BottleId>, then: AfterCheck) {
        let mut unreadable = Vec::new();
        let mut bottles: Vec<(BottleId, Engine, String)> = Vec::new();
        for id in ids {
            match (self.bottle(id), self.engine_of(id)) {
                (Some(bottle), _) if bottle.workspace.is_none() => {}
                (Some(bottle), Some(engine)) => {
                    bottles.push((id, engine, bottle.agent_container.clone()));
                }
                (Some(_), None) => {
                    unreadable.push((id, "the Docker engine is not connected".to_owned()));
                }
                (None, _) => {}
            }
        }
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let mut pending = Vec::new();
            for (id, engine, container) in bottles {
                match workspace::state(&engine, &container).await {
                    Ok(Some(state)) if state.has_uncollected_work() => {
                        pending.push((id, state.describe()));
                    }
                    Ok(_) => {}
                    Err(e) => unreadable.push((id, e.to_string())),
                }
            }
            let event = Event::WorkChecked {
                then,
                pending,
                unreadable,
            };
            let _ = tx.send(Msg::Event(event));
        });
    }

    /// Follows one bottle's changes (and one file's diff) for the diff pane.
    pub(super) fn watch_work(&mut self, id: Option<BottleId>, file: Option<String>) {
        if let Some(old) = self.work.diff.take() {
            old.abort();
        }
        let Some((engine, bottle)) = id.and_then(|id| self.workspace_bottle(id)) else {
            return;
        };
        let (id, container) = (id.unwrap_or_default(), bottle.agent_container);
        let tx = self.tx.clone();
        self.work.diff = Some(tokio::spawn(async move {
            let mut last_files = None;
            let mut last_text = None;
            loop {
                let files = workspace::changes(&engine, &container)
                    .await
                    .map_err(|e| e.to_string());
                if last_files.as_ref() != Some(&files) {
                    last_files = Some(files.clone());
                    if tx.send(Msg::Event(Event::Changes { id, files })).is_err() {
                        return;
                    }
                }
                if let Some(path) = &file {
                    let text = workspace::file_diff(&engine, &container, path)
                        .await
                        .map_err(|e| e.to_string());
                    if last_text.as_ref() != Some(&text) {
                        last_text = Some(text.clone());
                        let event = Event::FileDiff {
                            id,
                            path: path.clone(),
                            text,
                        };
                        if tx.send(Msg::Event(event)).is_err() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(DIFF_EVERY).await;
            }
        }));
    }

    /// A bottle came or went: the overlap follower asks the bottles that
    /// share a repository with another (and runs only while there are any).
    pub(super) fn rewatch_overlaps(&mut self) {
        let mut by_repo: HashMap<std::path::PathBuf, Vec<(BottleId, String)>> = HashMap::new();
        for (id, live) in &self.bottles {
            if let Some((bottle, _)) = &live.up
                && let Some(origin) = &bottle.workspace
            {
                by_repo
                    .entry(origin.repo.clone())
                    .or_default()
                    .push((*id, bottle.agent_container.clone()));
            }
        }
        let mut shared: Vec<(BottleId, String)> = by_repo
            .into_values()
            .filter(|group| group.len() > 1)
            .flatten()
            .collect();
        shared.sort();
        let ids: Vec<BottleId> = shared.iter().map(|(id, _)| *id).collect();
        if ids == self.work.overlap_ids && (ids.is_empty() || self.work.overlap.is_some()) {
            return;
        }
        if let Some(old) = self.work.overlap.take() {
            old.abort();
        }
        self.work.overlap_ids.clone_from(&ids);
        // Each bottle asked on its own engine (one that is away is skipped).
        let shared: Vec<(BottleId, Engine, String)> = shared
            .into_iter()
            .filter_map(|(id, container)| Some((id, self.engine_of(id)?, container)))
            .collect();
        if shared.is_empty() {
            return;
        }
        let tx = self.tx.clone();
        self.work.overlap = Some(tokio::spawn(async move {
            let mut last: HashMap<BottleId, Vec<FileChange>> = HashMap::new();
            loop {
                for (id, engine, container) in &shared {
                    let Ok(files) = workspace::changes(engine, container).await else {
                        continue;
                    };
                    if last.get(id) != Some(&files) {
                        last.insert(*id, files.clone());
                        let event = Event::Changes {
                            id: *id,
                            files: Ok(files),
                        };
                        if tx.send(Msg::Event(event)).is_err() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(OVERLAP_EVERY).await;
            }
        }));
    }
}
