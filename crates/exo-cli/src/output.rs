//! Rendering helpers shared by commands.
//!
//! Every byte for stdout goes through [`write_stdout`] (the `out!` and `outln!` macros, and
//! [`print_json`]), which hand a failed write back as an error instead of panicking like
//! `println!` does: a reader that stops reading (`exo graph | head -1`) then ends exo
//! quietly with exit 0, as it does ripgrep or git (see `main`).

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{IsTerminal, Write};

use anyhow::Result;
use exo_api::{Freshness, Health, SyncState};
use serde::Serialize;

/// Writes `format!`-style text to stdout, returning from the enclosing function on error.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))?
    };
}

/// Like `println!`, but a closed or failing stdout is an error for the caller, not a panic.
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))?
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))?
    };
}

pub(crate) use {out, outln};

/// The reader of stdout went away (EPIPE): nobody wants the rest of the answer, so this
/// is not a failure, and `main` exits 0 without a word.
#[derive(Debug)]
pub struct StdoutClosed;

impl fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stdout was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// A failed write to stdout as an error. Only a closed pipe *on stdout* becomes
/// [`StdoutClosed`]: a broken pipe to the embedding server or to git is a real failure.
pub fn stdout_error(error: std::io::Error) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::BrokenPipe {
        anyhow::Error::new(StdoutClosed)
    } else {
        anyhow::Error::new(error).context("cannot write to stdout")
    }
}

pub fn write_stdout(args: fmt::Arguments<'_>) -> Result<()> {
    std::io::stdout().lock().write_fmt(args).map_err(stdout_error)
}

pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    // serde_json wraps the io error so that it is no longer in the error's chain; unwrap it
    // so a closed pipe is recognised.
    serde_json::to_writer_pretty(&mut out, value).map_err(|e| stdout_error(e.into()))?;
    writeln!(out).map_err(stdout_error)
}

/// One line for an error and its causes, each message once. Several library errors put
/// their cause's text in their own message *and* return it from `source()` (thiserror's
/// `{source}` beside `#[source]`), so anyhow's `{:#}` would print an OS error twice; and
/// some causes only restate the error above them (rusqlite's "file is not a database" over
/// SQLite's "Error code 26: file is not a database"). Either kind of cause is left out.
pub fn error_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut above = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        let said = line.contains(&text) || (!above.is_empty() && text.contains(&above));
        if !said {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        above = text;
    }
    escape(&line).into_owned()
}

/// What to do about an error, said as commands: the libraries name the remedy as a value.
pub fn remedy_text(error: &anyhow::Error) -> String {
    let remedy = error.chain().find_map(|cause| cause.downcast_ref::<exo_api::ApiError>()?.remedy());
    match remedy {
        None => String::new(),
        Some(exo_api::Remedy::Index) => " — run `exo index` first".into(),
        Some(exo_api::Remedy::IndexAgain) => ", then run `exo index` again".into(),
        Some(exo_api::Remedy::Rebuild) => " — run `exo index --rebuild`".into(),
        Some(exo_api::Remedy::WaitLonger) => " — try again, or pass --wait SECONDS".into(),
        Some(exo_api::Remedy::EmbedOrSearchWords) => {
            ": run `exo index` to embed the notes, or search with --mode bm25".into()
        }
        Some(exo_api::Remedy::SearchFor(name)) => format!(" — see `exo search {}`", escape(&name)),
    }
}

/// Colour only for a terminal (or when `CLICOLOR_FORCE` asks for it, e.g. through a pager),
/// and never when NO_COLOR is set (no-color.org, which wins over CLICOLOR_FORCE).
pub fn use_color() -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") || std::io::stdout().is_terminal()
}

/// `text` in the colour `ansi` when colour is on. Pad before painting (`{:<9}` around a
/// painted string counts the escape codes as width and pads nothing).
pub fn paint(text: &str, ansi: &str) -> String {
    if use_color() { format!("\x1b[{ansi}m{text}\x1b[0m") } else { text.to_string() }
}

/// A name or text from the vault, safe to print on a terminal: control characters (a
/// newline that fakes a line of output, ESC starting a sequence that clears the screen) and
/// the Unicode bidi controls (which reorder what follows) are shown as escapes, the way
/// `ls` shows such names. Everything else is unchanged. JSON needs none of this: serde
/// escapes control characters itself.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && u32::from(c) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Prose from the vault (a snippet, a line of context) on one line: line breaks and tabs
/// read as spaces there, and any other control character is escaped as in [`escape`].
pub fn prose(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let spaced: String = text.chars().map(|c| if matches!(c, '\n' | '\r' | '\t') { ' ' } else { c }).collect();
    Cow::Owned(escape(&spaced).into_owned())
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

pub fn sync_badge(state: SyncState, health: Health) -> String {
    let (name, ansi) = match (state, health) {
        (SyncState::Synced, Health::Healthy) => ("Synced", "1;32"),
        (SyncState::Synced, _) => ("Synced", "1;33"),
        (SyncState::OutOfSync, _) => ("OutOfSync", "1;33"),
        (SyncState::Missing, _) => ("Missing", "1;31"),
        (SyncState::Degraded, _) => ("Degraded", "1;31"),
    };
    paint(name, ansi)
}

/// A check that could not be made is said on stderr: the answer itself still stands.
pub fn warn_unchecked(freshness: &Freshness) {
    if let Some(why) = &freshness.unchecked {
        eprintln!("exo: warning: could not check the index against the files: {}", escape(why));
    }
}

/// The last line of a human answer from an index behind the files.
pub fn print_freshness(freshness: &Freshness) -> Result<()> {
    if let (Some(state), Some(stale)) = (freshness.index_status, freshness.stale_notes) {
        print_stale_warning(state, stale)?;
    }
    Ok(())
}

/// The last line of a human answer given from an index that is behind the files.
pub fn print_stale_warning(state: SyncState, stale: usize) -> Result<()> {
    if state == SyncState::OutOfSync {
        outln!(
            "{}",
            paint(&format!("warning: the index is behind the files ({stale} notes differ) — run `exo index`"), "33")
        );
    }
    Ok(())
}

/// 12345 -> "12,345".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Text cut to `max` characters with an ellipsis, on one line, safe for a terminal.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = escape(&flat).into_owned();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }

    #[test]
    fn escape_shows_control_characters_and_leaves_the_rest() {
        assert_eq!(escape("concepts/Forgetting Curve.md"), "concepts/Forgetting Curve.md");
        assert_eq!(escape("naïve 日本.md"), "naïve 日本.md");
        assert_eq!(escape("a\nb.md"), "a\\nb.md");
        assert_eq!(escape("\x1b[2Jx.md"), "\\x1b[2Jx.md");
        assert_eq!(escape("a\u{9b}b\u{7f}"), "a\\x9bb\\x7f");
        assert_eq!(escape("evil\u{202e}dm.exe"), "evil\\u{202e}dm.exe");
        assert_eq!(prose("line one\nline\ttwo \x1b[31m"), "line one line two \\x1b[31m");
        assert_eq!(one_line("a\x1b[2J\n b", 80), "a\\x1b[2J b");
    }

    #[test]
    fn error_line_says_each_cause_once() {
        let os = std::io::Error::from_raw_os_error(2);
        let os_text = os.to_string();
        // What thiserror's `#[error("cannot read {path}: {source}")]` with `#[source]` gives.
        #[derive(Debug)]
        struct Repeats(std::io::Error);
        impl fmt::Display for Repeats {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "cannot read /nonexistent: {}", self.0)
            }
        }
        impl std::error::Error for Repeats {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let error = anyhow::Error::new(Repeats(os)).context("opening the vault");
        let line = error_line(&error);
        assert_eq!(line.matches(&os_text).count(), 1, "{line}");
        assert_eq!(line, format!("opening the vault: cannot read /nonexistent: {os_text}"));
        // A cause that says something new is kept.
        let error = anyhow::anyhow!("disk on fire").context("cannot write x");
        assert_eq!(error_line(&error), "cannot write x: disk on fire");
        // A cause that restates the one above it with more words is not.
        let error = anyhow::anyhow!("Error code 26: file is not a database")
            .context("file is not a database")
            .context("index catalog x: file is not a database (repair: exo index --rebuild)");
        assert_eq!(error_line(&error), "index catalog x: file is not a database (repair: exo index --rebuild)");
    }

    #[test]
    fn a_closed_pipe_on_stdout_is_recognised() {
        let closed = stdout_error(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(closed.is::<StdoutClosed>());
        let json = serde_json::Error::io(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(stdout_error(json.into()).is::<StdoutClosed>());
        let full = stdout_error(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(!full.is::<StdoutClosed>());
        assert!(error_line(&full).starts_with("cannot write to stdout: "));
    }
}
