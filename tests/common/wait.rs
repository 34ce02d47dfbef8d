//! The one "wait until" of the tests: poll, sleep, give up with the state.

use std::fmt::Display;
use std::time::{Duration, Instant};

/// Calls `probe` every `every` until it returns `Ok`, and returns that. After
/// `timeout` the test fails, saying what it waited for and the last `Err`
/// (the state it saw), so a failure shows why.
pub fn until<T, E: Display>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut probe: impl FnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(state) => assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {what}; last seen:\n{state}"
            ),
        }
        std::thread::sleep(every);
    }
}
