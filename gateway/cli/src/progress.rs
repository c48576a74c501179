//! Upload progress on stderr (bytes, rate, ETA) through `indicatif`. Nothing is drawn with
//! `--json` or when stderr is not a terminal (CI logs, pipes), where `\r` redraws are noise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar for sending `total` bytes; hidden when `quiet` or when stderr is not a terminal.
pub fn upload_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    // The template is a constant; a mistake in it is a programming error caught by the test below.
    let style = ProgressStyle::with_template(TEMPLATE).expect("a valid template").progress_chars("=> ");
    bar.set_style(style);
    bar
}

const TEMPLATE: &str =
    "uploading [{bar:30}] {percent:>3}% {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_valid_and_quiet_bars_are_hidden() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
        assert!(upload_bar(10, true).is_hidden());
    }
}
