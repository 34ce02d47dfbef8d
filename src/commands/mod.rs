//! One module per subcommand. Each returns the process exit code.
pub mod completions;
pub mod confirm;
pub mod doctor;
pub mod gc;
