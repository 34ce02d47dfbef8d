//! What runs in a bottle's copy (one shell script, several verbs) and what
//! its output means. The bottle may lie in all of it: its answers decide only
//! what is offered and shown; what is imported is checked on this side.

/// The script: `sh -c SCRIPT sh VERB DIR [ARGS…]`.
///
/// - `state DIR`: where the work stands (lines `key value`).
/// - `bundle DIR MESSAGE`: the state, then the work (uncommitted changes as
///   one more commit with MESSAGE, made without touching the agent's index)
///   under `refs/claude-bottle/out`, bundled against the base; `bundle PATH`.
/// - `mark DIR HEAD TREE TIP`: that state counts as collected, as TIP (the
///   next collect builds on it).
/// - `changes DIR`: `added<TAB>removed<TAB>path<NUL>` per file against the base.
/// - `diff DIR PATH`: one file's diff against the base.
pub const SCRIPT: &str = r#"set -eu
verb=$1; cd "$2"
base=$(git rev-parse -q --verify refs/claude-bottle/base) || { echo "none"; exit 0; }
if [ "$verb" = mark ]; then
  git update-ref refs/claude-bottle/collected-head "$3"
  git update-ref refs/claude-bottle/collected-tree "$4"
  git update-ref refs/claude-bottle/collected-tip "$5"
  rm -f /tmp/claude-bottle-collect.*
  exit 0
fi
head=$(git rev-parse -q --verify 'HEAD^{commit}' || echo "$base")
idx=$(mktemp)
trap 'rm -f "$idx"' EXIT
cp .git/index "$idx" 2>/dev/null || rm -f "$idx"
export GIT_INDEX_FILE="$idx"
git add -A
case "$verb" in
changes) exec git diff --cached --no-renames --no-ext-diff --numstat -z "$base" ;;
diff) exec git diff --cached --no-renames --no-ext-diff --no-textconv --no-color "$base" -- "$3" ;;
esac
tree=$(git write-tree)
echo "base $base"
echo "head $head"
echo "tree $tree"
echo "head_tree $(git rev-parse "$head^{tree}")"
echo "collected_head $(git rev-parse -q --verify refs/claude-bottle/collected-head || true)"
echo "collected_tree $(git rev-parse -q --verify refs/claude-bottle/collected-tree || true)"
echo "commits $(git rev-list --count "$head" --not "$base" 2>/dev/null || echo 0)"
[ "$verb" = bundle ] || exit 0
# The last collected tip, unless the agent's HEAD already holds it: the new
# tip builds on it, so each collect moves the branch forward.
prev=$(git rev-parse -q --verify refs/claude-bottle/collected-tip || true)
if [ -n "$prev" ] && git merge-base --is-ancestor "$prev" "$head"; then prev=""; fi
if [ -z "$prev" ]; then
  if [ "$tree" = "$(git rev-parse "$head^{tree}")" ]; then tip=$head
  else tip=$(git commit-tree -p "$head" -m "$3" "$tree"); fi
elif git merge-base --is-ancestor "$head" "$prev"; then
  if [ "$tree" = "$(git rev-parse "$prev^{tree}")" ]; then tip=$prev
  else tip=$(git commit-tree -p "$prev" -m "$3" "$tree"); fi
else
  tip=$(git commit-tree -p "$head" -p "$prev" -m "$3" "$tree")
fi
echo "tip $tip"
if [ "$tip" = "$base" ]; then echo "bundle none"; exit 0; fi
git update-ref refs/claude-bottle/out "$tip"
out=$(mktemp /tmp/claude-bottle-collect.XXXXXX)
git bundle create -q "$out" refs/claude-bottle/out --not "$base"
echo "bundle $out"
"#;

/// Where a bottle's work stands, as its copy reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkState {
    pub base: String,
    pub head: String,
    /// The working folder's tree (committed or not).
    pub tree: String,
    pub head_tree: String,
    pub collected_head: String,
    pub collected_tree: String,
    /// Commits on HEAD the base does not have.
    pub commits: u64,
    /// After `bundle`: the commit the work is collected as.
    pub tip: Option<String>,
    /// After `bundle`: the bundle's path in the bottle; `None` when there
    /// was nothing to bundle.
    pub bundle: Option<String>,
}

impl WorkState {
    /// Reads the script's lines; `None` when the bottle has no workspace.
    pub fn parse(text: &str) -> Option<Self> {
        let mut state = Self::default();
        let mut saw_base = false;
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            let value = value.trim().to_owned();
            match key {
                "base" => {
                    saw_base = true;
                    state.base = value;
                }
                "head" => state.head = value,
                "tree" => state.tree = value,
                "head_tree" => state.head_tree = value,
                "collected_head" => state.collected_head = value,
                "collected_tree" => state.collected_tree = value,
                "commits" => state.commits = value.parse().unwrap_or(0),
                "tip" => state.tip = Some(value),
                "bundle" => state.bundle = (value != "none").then_some(value),
                _ => {}
            }
        }
        saw_base.then_some(state)
    }

    /// Something in the bottle was not collected yet.
    pub fn has_uncollected_work(&self) -> bool {
        self.head != self.collected_head || self.tree != self.collected_tree
    }

    /// Files changed and not committed.
    pub fn has_uncommitted_changes(&self) -> bool {
        self.tree != self.head_tree
    }

    /// "2 commits and uncommitted changes", for offers and messages.
    pub fn describe(&self) -> String {
        let commits = match self.commits {
            0 => None,
            1 => Some("1 commit".to_owned()),
            n => Some(format!("{n} commits")),
        };
        match (commits, self.has_uncommitted_changes()) {
            (Some(c), true) => format!("{c} and uncommitted changes"),
            (Some(c), false) => c,
            (None, true) => "uncommitted changes".to_owned(),
            (None, false) => "no changes".to_owned(),
        }
    }
}

/// One file changed against the base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// `None` for a binary file.
    pub added: Option<u64>,
    pub removed: Option<u64>,
}

/// Reads `git diff --numstat -z` output (at most `max` files).
pub fn parse_changes(bytes: &[u8], max: usize) -> Vec<FileChange> {
    bytes
        .split(|b| *b == 0)
        .filter_map(|record| {
            let text = String::from_utf8_lossy(record);
            let mut parts = text.splitn(3, '\t');
            let added = parts.next()?.trim_start_matches('\n');
            let removed = parts.next()?;
            let path = parts.next()?;
            (!path.is_empty()).then(|| FileChange {
                path: path.to_owned(),
                added: added.parse().ok(),
                removed: removed.parse().ok(),
            })
        })
        .take(max)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(head: &str, tree: &str) -> WorkState {
        WorkState::parse(&format!(
            "base b\nhead {head}\ntree {tree}\nhead_tree {head}t\ncollected_head b\ncollected_tree t0\ncommits 0\n"
        ))
        .unwrap()
    }

    #[test]
    fn work_is_pending_until_what_is_there_was_collected() {
        assert!(!state("b", "t0").has_uncollected_work());
        assert!(state("b", "t1").has_uncollected_work());
        assert!(state("c", "t0").has_uncollected_work());
        assert_eq!(WorkState::parse("none\n"), None);
    }

    #[test]
    fn describes_commits_and_changes() {
        let mut s = state("c", "x");
        s.commits = 2;
        assert_eq!(s.describe(), "2 commits and uncommitted changes");
        s.tree = s.head_tree.clone();
        s.commits = 1;
        assert_eq!(s.describe(), "1 commit");
    }

    #[test]
    fn reads_numstat_records() {
        let out = b"3\t1\tsrc/a.rs\0-\t-\tlogo.png\0\n";
        assert_eq!(
            parse_changes(out, 10),
            [
                FileChange {
                    path: "src/a.rs".into(),
                    added: Some(3),
                    removed: Some(1)
                },
                FileChange {
                    path: "logo.png".into(),
                    added: None,
                    removed: None
                },
            ]
        );
        assert_eq!(parse_changes(out, 1).len(), 1);
    }
}
