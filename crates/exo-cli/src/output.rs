//! Rendering helpers shared by commands.

use std::io::{IsTerminal, Write};

use anyhow::Result;
use exo_index::{Health, SyncState};
use serde::Serialize;

pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Colour only for a terminal, and never when NO_COLOR is set (no-color.org).
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn paint(text: &str, ansi: &str) -> String {
    if use_color() { format!("\x1b[{ansi}m{text}\x1b[0m") } else { text.to_string() }
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

/// The last line of a human answer given from an index that is behind the files.
pub fn print_stale_warning(state: SyncState, stale: usize) {
    if state == SyncState::OutOfSync {
        println!(
            "{}",
            paint(&format!("warning: the index is behind the files ({stale} notes differ) — run `exo index`"), "33")
        );
    }
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

/// Text cut to `max` characters with an ellipsis, on one line.
pub fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
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
}
