//! One module per subcommand. Each returns the process exit code.
pub mod attach;
pub mod collect;
pub mod completions;
pub mod confirm;
pub mod doctor;
pub mod engines;
pub mod gc;
pub mod init;
pub mod list;
pub mod logs;
pub mod prepare;
pub mod ps;
pub mod run;
pub mod show;
pub mod start;
pub mod stop;
pub mod validate;
