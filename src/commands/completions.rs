//! `claude-bottle completions <shell>`.

use clap::CommandFactory as _;

use crate::cli::Cli;

pub fn run(shell: clap_complete::Shell) -> i32 {
    clap_complete::generate(
        shell,
        &mut Cli::command(),
        "claude-bottle",
        &mut std::io::stdout(),
    );
    0
}
