//! One writer at a time: an exclusive lock on `.exo/lock`, waited for with a deadline.
//! Readers never take it; SQLite's WAL and tantivy's snapshots keep them consistent.
//!
//! `std::fs::File::try_lock` (flock on Unix, LockFileEx on Windows) does the job, so no lock
//! crate is needed; the OS drops the lock if the process dies, so a crash never leaves the
//! vault locked.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{IndexError, Result, io_err};

/// Held for the life of one write; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Takes the lock at `path`, polling until `wait` has passed.
    pub fn acquire(path: &Path, wait: Duration) -> Result<WriterLock> {
        if let Some(dir) = path.parent() {
            crate::error::create_folder(dir)?;
        }
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(io_err(path))?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriterLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < wait => {
                    std::thread::sleep(Duration::from_millis(25));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(IndexError::Locked { path: path.to_path_buf(), waited_secs: wait.as_secs() });
                }
                Err(TryLockError::Error(e)) => return Err(io_err(path)(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_waits_then_fails_clearly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".exo/lock");
        let first = WriterLock::acquire(&path, Duration::ZERO).unwrap();
        let started = Instant::now();
        let err = WriterLock::acquire(&path, Duration::from_millis(200)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(matches!(err, IndexError::Locked { .. }), "{err}");
        assert_eq!(err.remedy(), Some(crate::error::Remedy::WaitLonger), "the face says how to wait longer");
        drop(first);
        WriterLock::acquire(&path, Duration::ZERO).unwrap();
    }
}
