//! A vault on disk: its root, its configuration, and reading one note with its identity.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Config;
use crate::error::{Result, VaultError};
use crate::note::Note;
use crate::parse::{ParseOptions, parse_bytes};
use crate::path::rel_path_string;
use crate::root::discover_root;
use crate::scan::{ScanReport, Skipped, mtime_ns, scan};

/// blake3 of a file's raw bytes, as 64 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ContentHash(pub String);

impl ContentHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn content_hash(bytes: &[u8]) -> ContentHash {
    ContentHash(blake3::hash(bytes).to_hex().to_string())
}

/// Outcome of reading one note file.
#[derive(Debug)]
pub enum ReadNote {
    Read {
        bytes: Vec<u8>,
        hash: ContentHash,
        size: u64,
        /// Taken before the bytes were read, so a write racing the read leaves the stored
        /// stat older than the file and the next scan looks at it again.
        mtime_ns: i64,
        /// From the same stat as `mtime_ns` (see [`crate::scan::identity`]).
        identity: i64,
    },
    /// Present but deliberately not indexed (too large, binary).
    Skipped(Skipped),
    /// Deleted between the scan and the read.
    Gone,
}

#[derive(Debug, Clone)]
pub struct Vault {
    root: PathBuf,
    config: Config,
}

/// Bytes of a file examined for a NUL byte to call it binary, as git does.
const BINARY_SNIFF_BYTES: usize = 8000;

impl Vault {
    /// Opens the vault at `root` (which must exist) and reads its `exo.toml`.
    pub fn open(root: &Path) -> Result<Vault> {
        let root = root.canonicalize().map_err(|e| VaultError::io(root, e))?;
        let config = Config::load(&root)?;
        Ok(Vault { root, config })
    }

    /// Finds the vault from `--vault`, `$EXO_ROOT` or the working directory, then opens it.
    pub fn discover(explicit: Option<&Path>, env_root: Option<&Path>, cwd: &Path) -> Result<Vault> {
        Vault::open(&discover_root(explicit, env_root, cwd)?)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions::from_config(&self.config)
    }

    pub fn scan(&self) -> Result<ScanReport> {
        scan(&self.root, &self.config)
    }

    /// Like [`Vault::scan`], but reuses `snapshot` (from an earlier scan's report) when
    /// nothing the walk depends on has changed since.
    pub fn scan_with(&self, snapshot: Option<crate::WalkSnapshot>) -> Result<ScanReport> {
        crate::scan::scan_with(&self.root, &self.config, snapshot)
    }

    /// Whether a walk now would list what `snapshot`'s did and refuse nothing (see
    /// [`crate::WalkSnapshot`]), by a stat of each folder and rule file, none of the notes.
    pub fn listing_holds(&self, snapshot: &crate::WalkSnapshot) -> bool {
        crate::snapshot::listing_holds(&self.root, &self.config, snapshot)
    }

    /// A user-given note path (absolute, or relative to `cwd`) as a vault-relative path.
    pub fn relative_path(&self, given: &Path, cwd: &Path) -> Result<String> {
        let absolute = cwd.join(given);
        let absolute = absolute.canonicalize().map_err(|e| VaultError::io(&absolute, e))?;
        if !absolute.starts_with(&self.root) {
            return Err(VaultError::OutsideVault { path: absolute, root: self.root.clone() });
        }
        rel_path_string(&self.root, &absolute)
            .map_err(|shown| VaultError::OutsideVault { path: PathBuf::from(shown), root: self.root.clone() })
    }

    pub fn read(&self, rel: &str) -> ReadNote {
        let abs = self.root.join(rel);
        let meta = match std::fs::metadata(&abs) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ReadNote::Gone,
            Err(e) => return skipped(rel, format!("cannot stat: {e}")),
        };
        if meta.len() > self.config.max_file_size {
            return skipped(
                rel,
                format!(
                    "{} bytes is above max_file_size ({}); raise it in exo.toml to index this note",
                    meta.len(),
                    self.config.max_file_size
                ),
            );
        }
        let mtime_ns = mtime_ns(&meta);
        let identity = crate::scan::identity(&meta);
        let bytes = match std::fs::read(&abs) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ReadNote::Gone,
            Err(e) => return skipped(rel, format!("cannot read: {e}")),
        };
        if memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)]).is_some() {
            return skipped(rel, "looks binary (contains NUL bytes); not indexed".into());
        }
        ReadNote::Read { hash: content_hash(&bytes), size: bytes.len() as u64, mtime_ns, identity, bytes }
    }

    pub fn parse(&self, rel: &str, bytes: &[u8]) -> Note {
        parse_bytes(rel, bytes, &self.parse_options())
    }
}

fn skipped(path: &str, reason: String) -> ReadNote {
    ReadNote::Skipped(Skipped { path: path.to_string(), reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_blake3_hex() {
        let h = content_hash(b"hello");
        assert_eq!(h.as_str().len(), 64);
        assert_eq!(h, content_hash(b"hello"));
        assert_ne!(h, content_hash(b"hello "));
    }

    #[test]
    fn reads_skips_and_notices_deletion() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("exo.toml"), "max_file_size = 100\n").unwrap();
        std::fs::write(dir.path().join("ok.md"), "# hi").unwrap();
        std::fs::write(dir.path().join("big.md"), "x".repeat(101)).unwrap();
        std::fs::write(dir.path().join("bin.md"), b"a\0b").unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        assert!(matches!(vault.read("ok.md"), ReadNote::Read { size: 4, .. }));
        match vault.read("big.md") {
            ReadNote::Skipped(s) => assert!(s.reason.contains("max_file_size"), "{}", s.reason),
            other => panic!("{other:?}"),
        }
        assert!(matches!(vault.read("bin.md"), ReadNote::Skipped(_)));
        assert!(matches!(vault.read("gone.md"), ReadNote::Gone));
    }

    #[test]
    fn relative_path_refuses_outside() {
        let dir = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/n.md"), "").unwrap();
        std::fs::write(other.path().join("o.md"), "").unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        assert_eq!(vault.relative_path(Path::new("sub/n.md"), dir.path()).unwrap(), "sub/n.md");
        assert!(vault.relative_path(&other.path().join("o.md"), dir.path()).is_err());
    }
}
