//! One bottle's egress log as the dashboard keeps it: the latest lines,
//! denial counts per host, a denials-only filter and a selected row.

use std::collections::VecDeque;

use crate::egress::log::{EgressEvent, LogLine};
use crate::egress::tally::DenialTally;

/// Lines kept per bottle; older ones are dropped (the counts stay exact).
pub const EGRESS_LOG_CAP: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
pub struct EgressRow {
    /// Increases by one per line, so a selection survives old rows dropping.
    pub seq: u64,
    pub line: LogLine,
}

impl EgressRow {
    pub fn is_denial(&self) -> bool {
        self.denial().is_some()
    }

    /// The event, when the row is a denial.
    pub fn denial(&self) -> Option<&EgressEvent> {
        match &self.line {
            LogLine::Event(e) if e.is_denial() => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct EgressLog {
    rows: VecDeque<EgressRow>,
    next_seq: u64,
    /// Denials since the bottle started, one per request, per host and kind.
    pub denials: DenialTally,
    pub denials_only: bool,
    /// The selected row's `seq`; `None` follows the newest row.
    pub selected: Option<u64>,
}

impl EgressLog {
    pub fn push(&mut self, line: LogLine) {
        let row = EgressRow {
            seq: self.next_seq,
            line,
        };
        self.next_seq += 1;
        if let LogLine::Event(e) = &row.line {
            self.denials.record(e);
        }
        if self.rows.len() == EGRESS_LOG_CAP {
            self.rows.pop_front();
        }
        self.rows.push_back(row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// The row pushed last.
    pub fn newest(&self) -> Option<&EgressRow> {
        self.rows.back()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn total_denials(&self) -> u32 {
        self.denials.total()
    }

    /// The rows the filter lets through, oldest first.
    pub fn visible(&self) -> impl DoubleEndedIterator<Item = &EgressRow> {
        let denials_only = self.denials_only;
        self.rows
            .iter()
            .filter(move |r| !denials_only || r.is_denial())
    }

    /// The selected row, or the newest visible one when following.
    pub fn selected_row(&self) -> Option<&EgressRow> {
        match self.selected {
            Some(seq) => self.visible().find(|r| r.seq == seq),
            None => self.visible().next_back(),
        }
    }

    /// Moves the selection towards older rows.
    pub fn select_older(&mut self) {
        let current = self.selected_row().map(|r| r.seq);
        let older = current.and_then(|seq| self.visible().rev().find(|r| r.seq < seq));
        if let Some(row) = older {
            self.selected = Some(row.seq);
        } else if let Some(seq) = current {
            self.selected = Some(seq);
        }
    }

    /// Moves the selection towards newer rows; past the newest it follows again.
    pub fn select_newer(&mut self) {
        let Some(seq) = self.selected else { return };
        let newer = self.visible().find(|r| r.seq > seq).map(|r| r.seq);
        let newest = self.visible().next_back().map(|r| r.seq);
        self.selected = if newer == newest { None } else { newer };
    }

    pub fn toggle_denials_only(&mut self) {
        self.denials_only = !self.denials_only;
        // A selected row the filter hides would be invisible: follow instead.
        if self.selected_row().is_none() {
            self.selected = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::log::parse_line;

    fn blocked(host: &str) -> LogLine {
        parse_line(&format!(
            r#"{{"level":"warn","event":"blocked","method":"CONNECT","target":"{host}:443","scanner":"allowlist","reason":"domain not in allowlist: {host}","time":"2026-04-28T15:05:20Z"}}"#
        ))
    }

    fn opened(host: &str) -> LogLine {
        parse_line(&format!(
            r#"{{"level":"info","event":"tunnel_open","target":"{host}:443","time":"2026-04-28T15:05:20Z"}}"#
        ))
    }

    #[test]
    fn counts_denials_per_host_and_filters() {
        let mut log = EgressLog::default();
        log.push(opened("api.anthropic.com"));
        log.push(blocked("evil.example"));
        log.push(blocked("evil.example"));
        log.push(LogLine::Note("pipelock starting".into()));
        log.push(blocked("other.example"));
        assert_eq!(log.denials.by_bucket["evil.example"], 2);
        assert_eq!(log.total_denials(), 3);
        assert_eq!(log.visible().count(), 5);
        log.toggle_denials_only();
        assert_eq!(log.visible().count(), 3);
        assert_eq!(
            log.selected_row()
                .unwrap()
                .denial()
                .unwrap()
                .host
                .as_deref(),
            Some("other.example")
        );
    }

    #[test]
    fn two_lines_of_one_request_show_both_and_count_once() {
        let mut log = EgressLog::default();
        for url in ["http://b.example/", "http://a.example/"] {
            log.push(parse_line(&format!(
                r#"{{"event":"blocked","url":"{url}","scanner":"redirect","request_id":"r7"}}"#
            )));
        }
        assert_eq!(log.visible().count(), 2);
        assert_eq!(log.total_denials(), 1);
    }

    #[test]
    fn keeps_only_the_latest_rows_but_every_count() {
        let mut log = EgressLog::default();
        for i in 0..EGRESS_LOG_CAP + 10 {
            log.push(blocked(&format!("h{}.example", i % 3)));
        }
        assert_eq!(log.len(), EGRESS_LOG_CAP);
        assert_eq!(log.total_denials() as usize, EGRESS_LOG_CAP + 10);
        assert_eq!(log.visible().next().unwrap().seq, 10);
    }

    #[test]
    fn selection_moves_and_follows_again_at_the_bottom() {
        let mut log = EgressLog::default();
        log.push(blocked("a.example"));
        log.push(opened("b.example"));
        log.push(blocked("c.example"));
        assert_eq!(log.selected_row().unwrap().seq, 2);
        log.select_older();
        assert_eq!(log.selected, Some(1));
        log.select_older();
        log.select_older();
        assert_eq!(log.selected, Some(0));
        log.select_newer();
        assert_eq!(log.selected, Some(1));
        log.select_newer();
        assert_eq!(log.selected, None);
        log.push(opened("d.example"));
        assert_eq!(log.selected_row().unwrap().seq, 3);
    }
}
