//! The tools, each a few lines: the arguments as an exo-api request, one exo-api call, the
//! answer as structured content. `read.rs` holds the read-only tools, `write.rs` the four
//! that change notes (absent under `--read-only`).

mod read;
mod write;

/// The tools that change notes: what `--read-only` leaves out.
pub(crate) const WRITE_TOOLS: [&str; 4] = ["create_note", "edit_note", "move_note", "delete_note"];
