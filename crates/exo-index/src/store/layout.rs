//! Where the derived state lives: `.exo/` under the vault root.

use std::path::{Path, PathBuf};

pub const INDEX_DIR: &str = ".exo";

#[derive(Debug, Clone)]
pub struct Layout {
    pub dir: PathBuf,
    pub catalog: PathBuf,
    pub text: PathBuf,
    /// Chunk vectors by content key; kept across rebuilds (they stay valid for the text).
    pub vectors: PathBuf,
    /// The vectors in note order, int8, for search (derived from the two above).
    pub flat_vectors: PathBuf,
    pub lock: PathBuf,
    /// The last walk of the vault and the stat records that let a check reuse it.
    pub walk: PathBuf,
    /// The catalog's entries laid flat, for the checks beside searches (derived from it).
    pub entries: PathBuf,
}

impl Layout {
    pub fn new(vault_root: &Path) -> Layout {
        let dir = vault_root.join(INDEX_DIR);
        Layout {
            catalog: dir.join("index.sqlite"),
            text: dir.join("text"),
            vectors: dir.join("vectors.sqlite"),
            flat_vectors: dir.join("vectors.flat"),
            lock: dir.join("lock"),
            walk: dir.join("walk"),
            entries: dir.join("entries"),
            dir,
        }
    }

    /// The catalog and the text index, with SQLite's WAL side files: what a rebuild removes.
    pub fn derived_files(&self) -> Vec<PathBuf> {
        // The flat vectors name catalog note ids, which a rebuild renumbers; the entries
        // copy describes the catalog a rebuild replaces.
        // `vectors.delta` (flat.rs) patches the flat file, so it goes with it.
        let mut files = vec![
            self.catalog.clone(),
            self.flat_vectors.clone(),
            self.flat_vectors.with_extension("delta"),
            self.entries.clone(),
        ];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = self.catalog.clone().into_os_string();
            name.push(suffix);
            files.push(PathBuf::from(name));
        }
        files
    }
}
