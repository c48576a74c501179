//! Confirmation before a command that cannot be undone: the person at the terminal types the
//! name of what goes. Without a terminal (CI, a pipe) nobody can confirm, so the command refuses
//! unless `--yes` said so up front.

use std::io::{BufRead, IsTerminal, Write};

use crate::client::CliError;

/// Shows `prompt` on stderr and reads a line from the terminal; done when it is `expected`.
pub fn typed(prompt: &str, expected: &str) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(
            "refusing to delete without confirmation: no terminal to ask on; pass --yes".to_owned(),
        ));
    }
    eprint!("{prompt}");
    // A prompt that does not show is only cosmetic; the answer is still read.
    let _ = std::io::stderr().flush();
    answer_matches(stdin.lock(), expected)
}

/// The line read from `input` is `expected` (surrounding whitespace aside).
fn answer_matches(mut input: impl BufRead, expected: &str) -> Result<(), CliError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| CliError::Local(format!("cannot read the confirmation: {e}")))?;
    if line.trim() == expected {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "not confirmed (typed \"{}\", not \"{expected}\"): nothing deleted",
            line.trim()
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_id_confirms() {
        assert!(answer_matches("com.example.app\n".as_bytes(), "com.example.app").is_ok());
        assert!(answer_matches("  com.example.app  \r\n".as_bytes(), "com.example.app").is_ok());
        for wrong in ["", "\n", "y\n", "com.example\n", "com.example.app2\n"] {
            let refused = answer_matches(wrong.as_bytes(), "com.example.app").unwrap_err();
            assert_eq!(refused.exit_code(), 2, "{wrong:?}");
        }
    }
}
