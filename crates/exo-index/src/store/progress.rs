//! Where long work reports how far it got: a progress bar in a face, nothing elsewhere.

/// Receives progress while notes are read and indexed (a progress bar, or nothing).
pub trait Progress: Sync {
    fn start(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

pub struct Silent;

impl Progress for Silent {}
