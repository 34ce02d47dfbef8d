//! Denials counted once per request, per host and per kind (pure). The
//! dashboard and `logs --propose` count with the same code.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::denial::{DenialKind, bucket};
use super::log::EgressEvent;

/// Request ids remembered for spotting a second line of one request. The
/// two lines of a blocked redirect come close together; a bound keeps a
/// long session's memory flat.
const RECENT_REQUESTS: usize = 256;

#[derive(Debug, Clone, Default)]
pub struct DenialTally {
    recent: VecDeque<String>,
    /// Requests refused, per host or bucket.
    pub by_bucket: BTreeMap<String, u32>,
    /// Requests refused, per kind.
    pub by_kind: BTreeMap<DenialKind, u32>,
    /// Hosts the allowlist scanner refused.
    pub allowlist_hosts: BTreeSet<String>,
}

impl DenialTally {
    /// Counts `e` if it is a denial of a request not counted yet; returns
    /// whether it counted. A blocked plain-HTTP redirect logs two `blocked`
    /// lines (the target and the original URL) with one `request_id`.
    pub fn record(&mut self, e: &EgressEvent) -> bool {
        // Request ids are a per-process counter: a restarted sidecar starts
        // again at req-1.
        if e.kind == super::log::EventKind::Startup {
            self.recent.clear();
        }
        let Some(kind) = DenialKind::of(e) else {
            return false;
        };
        if let Some(id) = e.request_id.as_deref().filter(|id| !id.is_empty()) {
            if self.recent.iter().any(|seen| seen == id) {
                return false;
            }
            if self.recent.len() == RECENT_REQUESTS {
                self.recent.pop_front();
            }
            self.recent.push_back(id.to_owned());
        }
        *self.by_bucket.entry(bucket(e)).or_default() += 1;
        *self.by_kind.entry(kind).or_default() += 1;
        if let (DenialKind::Allowlist, Some(host)) = (kind, super::denial::refused_host(e)) {
            self.allowlist_hosts.insert(host);
        }
        true
    }

    pub fn total(&self) -> u32 {
        self.by_kind.values().sum()
    }

    /// Host or bucket and count, busiest first, then by name.
    pub fn busiest(&self) -> Vec<(&str, u32)> {
        let mut counts: Vec<(&str, u32)> = self
            .by_bucket
            .iter()
            .map(|(bucket, n)| (bucket.as_str(), *n))
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::denial::{KILL_SWITCH_BUCKET, REDACTED_BUCKET};
    use crate::egress::log::{LogLine, parse_line};

    fn event(line: &str) -> EgressEvent {
        match parse_line(line) {
            LogLine::Event(e) => *e,
            LogLine::Note(n) => panic!("not an event: {n}"),
        }
    }

    fn tally(lines: &[&str]) -> DenialTally {
        let mut t = DenialTally::default();
        for line in lines {
            t.record(&event(line));
        }
        t
    }

    #[test]
    fn a_restarted_sidecar_counts_its_own_request_ids_again() {
        let blocked = r#"{"event":"blocked","target":"a.test:443","scanner":"allowlist","request_id":"req-1"}"#;
        let t = tally(&[
            blocked,
            r#"{"event":"startup","listen":"0.0.0.0:8888"}"#,
            blocked,
        ]);
        assert_eq!(t.total(), 2);
        assert_eq!(tally(&[blocked, blocked]).total(), 1);
    }

    #[test]
    fn two_lines_of_one_request_count_once() {
        let t = tally(&[
            r#"{"event":"blocked","url":"http://b.test/","scanner":"redirect","request_id":"r1"}"#,
            r#"{"event":"blocked","url":"http://a.test/","scanner":"redirect","request_id":"r1"}"#,
            r#"{"event":"blocked","url":"http://a.test/","scanner":"allowlist","request_id":"r2"}"#,
            r#"{"event":"blocked","url":"http://a.test/","scanner":"allowlist"}"#,
            r#"{"event":"blocked","url":"http://a.test/","scanner":"allowlist"}"#,
        ]);
        assert_eq!(t.total(), 4);
        assert_eq!(t.busiest(), [("a.test", 3), ("b.test", 1)]);
        assert_eq!(t.by_kind[&DenialKind::Other], 1);
        assert_eq!(t.by_kind[&DenialKind::Allowlist], 3);
    }

    #[test]
    fn hostless_denials_count_under_readable_buckets() {
        let t = tally(&[
            r#"{"event":"kill_switch_deny","method":"GET"}"#,
            r#"{"event":"blocked","method":"CONNECT","target":"[redacted-url]","scanner":"dlp","request_id":"x"}"#,
            r#"{"event":"blocked","url":"https://p.test/[redacted]","scanner":"dlp","request_id":"y"}"#,
        ]);
        assert_eq!(
            t.busiest(),
            [(KILL_SWITCH_BUCKET, 1), (REDACTED_BUCKET, 1), ("p.test", 1)]
        );
        assert!(t.allowlist_hosts.is_empty());
    }

    #[test]
    fn reports_never_count() {
        let t = tally(&[
            r#"{"event":"anomaly","method":"STARTUP","reason":"listening on 0.0.0.0"}"#,
            r#"{"event":"startup","listen":"0.0.0.0:8888"}"#,
            r#"{"event":"error","error":"x"}"#,
            r#"{"event":"shutdown","reason":"signal received"}"#,
            r#"{"event":"tunnel_open","target":"a.test:443"}"#,
        ]);
        assert_eq!(t.total(), 0);
        assert!(t.by_bucket.is_empty());
    }

    #[test]
    fn old_request_ids_are_forgotten() {
        let mut t = DenialTally::default();
        for i in 0..=RECENT_REQUESTS {
            let line = format!(
                r#"{{"event":"blocked","target":"h.test:443","scanner":"allowlist","request_id":"r{i}"}}"#
            );
            assert!(t.record(&event(&line)));
        }
        let first =
            r#"{"event":"blocked","target":"h.test:443","scanner":"allowlist","request_id":"r0"}"#;
        assert!(t.record(&event(first)), "r0 fell out of the window");
        let last = format!(
            r#"{{"event":"blocked","target":"h.test:443","scanner":"allowlist","request_id":"r{RECENT_REQUESTS}"}}"#
        );
        assert!(!t.record(&event(&last)));
    }
}
