//! Asking the user y/N on the terminal.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

/// Why a question could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    #[error("{0}: stdin is not a terminal, so I cannot ask; pass --yes to go ahead")]
    NoTerminal(String),
    #[error("reading the answer: {0}")]
    Io(#[from] std::io::Error),
}

/// Asks `question [y/N]` on stderr and reads one line from stdin.
/// Anything but `y`/`yes` is a no.
pub fn ask_yes_no(question: &str) -> Result<bool, ConfirmError> {
    if !std::io::stdin().is_terminal() {
        return Err(ConfirmError::NoTerminal(question.to_owned()));
    }
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
