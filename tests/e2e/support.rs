//! Test vaults in temp dirs, the exo binary, real git, and an oracle that reads the index
//! files directly to check what exo claims.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn exo_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_exo"))
}

/// PATH with the built exo first, so git hooks find this exo and not another.
fn path_with_exo() -> std::ffi::OsString {
    let dir = exo_bin().parent().unwrap().to_path_buf();
    let mut paths = vec![dir];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap()
}

pub struct TestVault {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

impl TestVault {
    /// An empty folder (not a git repository).
    pub fn plain() -> TestVault {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("vault");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        let root = root.canonicalize().unwrap();
        TestVault { _dir: dir, root, home }
    }

    /// A git repository with an exo.toml, initialised by `exo init`.
    pub fn git_repo() -> TestVault {
        let vault = TestVault::plain();
        vault.git_ok(["init", "-q", "-b", "main"]);
        vault.exo_ok(["init"]);
        vault
    }

    /// A second vault cloned from this one.
    pub fn clone_to(&self, name: &str) -> TestVault {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let clone = TestVault { _dir: dir, root: root.clone(), home };
        let out = clone.command("git", &self.root).args(["clone", "-q"]).arg(&self.root).arg(&root).output().unwrap();
        assert!(out.status.success(), "git clone: {}", String::from_utf8_lossy(&out.stderr));
        TestVault { root: root.canonicalize().unwrap(), ..clone }
    }

    fn command(&self, program: impl AsRef<OsStr>, cwd: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .env("PATH", path_with_exo())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_COMMITTER_NAME", "Test Author")
            .env("GIT_COMMITTER_EMAIL", "author@example.com")
            .env("NO_COLOR", "1")
            .env_remove("EXO_ROOT");
        cmd
    }

    /// Any program, run in the vault with this test's PATH (exo first), HOME and git identity.
    pub fn program(&self, program: impl AsRef<OsStr>) -> Command {
        self.command(program, &self.root)
    }

    /// The HOME every command of this vault runs with (git's global config lives there).
    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn exo_cmd(&self) -> Command {
        self.command(exo_bin(), &self.root)
    }

    pub fn exo<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.exo_cmd().args(args).output().unwrap()
    }

    pub fn exo_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.exo(args);
        assert!(
            out.status.success(),
            "exo failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn git<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command("git", &self.root).args(args).output().unwrap()
    }

    /// Runs git and returns stdout + stderr (hook output goes to either).
    pub fn git_ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.git(args);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "git failed: {text}");
        text
    }

    pub fn commit_all(&self, message: &str) -> String {
        self.git_ok(["add", "-A"]);
        self.git_ok(["commit", "-q", "-m", message])
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    pub fn remove(&self, rel: &str) {
        std::fs::remove_file(self.root.join(rel)).unwrap();
    }

    pub fn status_json(&self) -> serde_json::Value {
        let out = self.exo(["status", "--json"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "status errored: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The state name from `exo status --json`, checking the exit code agrees with it.
    pub fn status(&self) -> String {
        let out = self.exo(["status", "--json"]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let state = json["status"].as_str().unwrap().to_string();
        let synced = state == "Synced" && json["health"] != "Degraded";
        assert_eq!(out.status.code(), Some(if synced { 0 } else { 1 }), "exit code vs {json}");
        state
    }

    /// Markdown files on disk (skipping dot-folders), path -> blake3, computed independently.
    pub fn files_on_disk(&self) -> BTreeMap<String, String> {
        let mut files = BTreeMap::new();
        walk(&self.root, &self.root, &mut files);
        files
    }

    /// What the index says it holds: catalog path -> hash, pending intents, text-index paths.
    pub fn index_contents(&self) -> IndexContents {
        let db = rusqlite::Connection::open(self.root.join(".exo/index.sqlite")).unwrap();
        let mut notes = BTreeMap::new();
        let mut stmt = db.prepare("SELECT path, hash FROM notes").unwrap();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
            let (p, h) = row.unwrap();
            notes.insert(p, h);
        }
        let pending: i64 = db.query_row("SELECT count(*) FROM pending", [], |r| r.get(0)).unwrap();
        IndexContents { notes, pending: pending as usize, text_paths: text_index_paths(&self.root.join(".exo/text")) }
    }
}

#[derive(Debug)]
pub struct IndexContents {
    pub notes: BTreeMap<String, String>,
    pub pending: usize,
    pub text_paths: Vec<String>,
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out);
        } else if name.ends_with(".md") {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, blake3::hash(&std::fs::read(&path).unwrap()).to_hex().to_string());
        }
    }
}

/// Paths of the live documents in the tantivy index, read with tantivy itself.
pub fn text_index_paths(dir: &Path) -> Vec<String> {
    use tantivy::schema::Value;
    let index = tantivy::Index::open_in_dir(dir).unwrap();
    let path_field = index.schema().get_field("path").unwrap();
    let reader = index.reader().unwrap();
    let searcher = reader.searcher();
    let mut paths = Vec::new();
    for segment in searcher.segment_readers() {
        let store = segment.get_store_reader(1).unwrap();
        for doc_id in segment.doc_ids_alive() {
            let doc: tantivy::TantivyDocument = store.get(doc_id).unwrap();
            paths.push(doc.get_first(path_field).and_then(|v| v.as_str()).unwrap().to_string());
        }
    }
    paths.sort();
    paths
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Sets every folder's and .gitignore's mtime an hour back, as if the vault had sat
/// untouched: only then may a check reuse the last walk (`.exo/walk`) instead of walking.
pub fn age_folders(root: &Path) {
    let hour_ago =
        filetime::FileTime::from_system_time(std::time::SystemTime::now() - std::time::Duration::from_secs(3600));
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        filetime::set_file_mtime(&dir, hour_ago).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() && entry.file_name() != ".exo" && entry.file_name() != ".git" {
                stack.push(entry.path());
            } else if entry.file_name() == ".gitignore" || entry.file_name() == ".git" {
                filetime::set_file_mtime(entry.path(), hour_ago).unwrap();
            }
        }
    }
}

/// The strings of the list `key` in a JSON answer (a status's `modified`, an index's `new`).
pub fn list(json: &serde_json::Value, key: &str) -> Vec<String> {
    json[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
}
