//! The fleet inbox: what needs the user across every bottle, newest first.
//! An agent waiting for input (its bell), a new allowlist denial, an agent
//! whose terminal ended, an egress sidecar that went down. Each item goes
//! when the user goes to it, or when what it reports is over.

use std::collections::VecDeque;

use super::event::BottleId;

/// Items kept; older ones drop off (a flood of denials stays bounded).
pub const INBOX_CAP: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboxKind {
    /// The agent rang the bell: it waits for the user.
    Waiting,
    /// The sidecar refused a request; `seq` is its egress log row.
    Denial { host: String, seq: u64 },
    /// The agent's terminal ended.
    Exited(Option<i32>),
    /// The egress sidecar stopped.
    EgressDown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    pub id: BottleId,
    pub agent: String,
    pub kind: InboxKind,
}

impl InboxItem {
    /// One line for the inbox list.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            InboxKind::Waiting => "waiting for you".to_owned(),
            InboxKind::Denial { host, .. } => format!("denied {host}"),
            InboxKind::Exited(Some(code)) => format!("terminal ended (exit code {code})"),
            InboxKind::Exited(None) => "terminal ended".to_owned(),
            InboxKind::EgressDown(reason) => format!("egress down: {reason}"),
        };
        format!("{}  {what}", self.agent)
    }

    /// Whether `other` reports the same thing (it then replaces this one).
    fn same_as(&self, other: &InboxItem) -> bool {
        self.id == other.id
            && match (&self.kind, &other.kind) {
                (InboxKind::Denial { host: a, .. }, InboxKind::Denial { host: b, .. }) => a == b,
                (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
            }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbox {
    /// Newest first.
    items: VecDeque<InboxItem>,
}

impl Inbox {
    /// Adds an item at the top; one reporting the same thing goes.
    pub fn push(&mut self, item: InboxItem) {
        self.items.retain(|old| !old.same_as(&item));
        self.items.push_front(item);
        self.items.truncate(INBOX_CAP);
    }

    /// Removes the items of bottle `id` that `over` says are over.
    pub fn resolve(&mut self, id: BottleId, over: impl Fn(&InboxKind) -> bool) {
        self.items.retain(|item| item.id != id || !over(&item.kind));
    }

    /// Removes item `index` (counting from the newest) and returns it.
    pub fn take(&mut self, index: usize) -> Option<InboxItem> {
        self.items.remove(index)
    }

    pub fn items(&self) -> impl Iterator<Item = &InboxItem> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: BottleId, kind: InboxKind) -> InboxItem {
        InboxItem {
            id,
            agent: format!("agent{id}"),
            kind,
        }
    }

    fn denial(host: &str, seq: u64) -> InboxKind {
        InboxKind::Denial {
            host: host.into(),
            seq,
        }
    }

    #[test]
    fn newest_first_and_the_same_report_once() {
        let mut inbox = Inbox::default();
        inbox.push(item(1, InboxKind::Waiting));
        inbox.push(item(2, denial("evil.example", 4)));
        inbox.push(item(2, denial("other.example", 5)));
        inbox.push(item(2, denial("evil.example", 9)));
        inbox.push(item(1, InboxKind::Waiting));
        let lines: Vec<String> = inbox.items().map(InboxItem::describe).collect();
        assert_eq!(
            lines,
            [
                "agent1  waiting for you",
                "agent2  denied evil.example",
                "agent2  denied other.example",
            ]
        );
        // The newest denial of a host points at its newest row.
        assert_eq!(
            inbox.items().nth(1).unwrap().kind,
            denial("evil.example", 9)
        );
    }

    #[test]
    fn items_go_when_what_they_report_is_over() {
        let mut inbox = Inbox::default();
        inbox.push(item(1, InboxKind::Waiting));
        inbox.push(item(1, InboxKind::EgressDown("stopped".into())));
        inbox.push(item(2, InboxKind::Waiting));
        inbox.resolve(1, |k| *k == InboxKind::Waiting);
        assert_eq!(inbox.len(), 2);
        inbox.resolve(1, |_| true);
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox.take(0).unwrap().id, 2);
        assert!(inbox.is_empty());
    }

    #[test]
    fn a_flood_stays_bounded() {
        let mut inbox = Inbox::default();
        for n in 0..(INBOX_CAP as u64 + 50) {
            inbox.push(item(1, denial(&format!("h{n}.example"), n)));
        }
        assert_eq!(inbox.len(), INBOX_CAP);
        assert_eq!(
            inbox.items().next().unwrap().kind,
            denial(
                &format!("h{}.example", INBOX_CAP + 49),
                INBOX_CAP as u64 + 49
            )
        );
    }
}
