//! One note write at a time per vault, across processes: an exclusive lock on
//! `.exo/write.lock`, held from the first read of a note to the commit. It is not the index's
//! `.exo/lock`, which the reindex inside a write takes and releases itself (a second flock on
//! the same file from this process would wait for ourselves). The OS drops it if the process
//! dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{ApiError, Result};

/// How long a write waits for another to finish.
const WAIT: Duration = Duration::from_secs(60);

pub(crate) struct WriteLock {
    _file: File,
}

impl WriteLock {
    pub(crate) fn acquire(vault_root: &Path) -> Result<WriteLock> {
        let dir = vault_root.join(exo_index::INDEX_DIR);
        let path = dir.join("write.lock");
        let failed = |source| ApiError::WriteFailed { path: path.display().to_string(), source };
        std::fs::create_dir_all(&dir).map_err(failed)?;
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(failed)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(WriteLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(TryLockError::WouldBlock) => return Err(ApiError::WriteLocked { path }),
                Err(TryLockError::Error(e)) => return Err(failed(e)),
            }
        }
    }
}
