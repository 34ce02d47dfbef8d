//! Parsing the pipelock sidecar's log lines (pure).
