//! Vault-relative paths: `/`-separated strings, the only form exo reports.

use std::path::{Component, Path};

/// `abs` relative to `root`, `/`-separated. Err carries a lossy form for messages
/// when the name is not UTF-8.
pub fn rel_path_string(root: &Path, abs: &Path) -> Result<String, String> {
    // Fast path, taken for every file a scan sees: plain string slicing.
    if std::path::MAIN_SEPARATOR == '/'
        && let (Some(root_str), Some(abs_str)) = (root.to_str(), abs.to_str())
        && let Some(rest) = abs_str.strip_prefix(root_str).and_then(|r| r.strip_prefix('/'))
        && !rest.contains("/./")
        && !rest.contains("//")
    {
        return Ok(rest.to_string());
    }
    let rel = abs.strip_prefix(root).unwrap_or(abs);
    let mut parts = Vec::new();
    for component in rel.components() {
        if let Component::Normal(part) = component {
            match part.to_str() {
                Some(s) => parts.push(s),
                None => return Err(rel.to_string_lossy().into_owned()),
            }
        }
    }
    Ok(parts.join("/"))
}

/// Joins `base_dir` (vault-relative, may be empty) and a relative `target`, resolving
/// `.` and `..`. None when the result would leave the vault.
pub fn join_normalized(base_dir: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = base_dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// The folder part of a vault-relative path ("" at the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("")
}

/// File name without its final `.md`/`.markdown` extension. Other dots stay: Dendron's
/// `a.b.c.md` has the stem `a.b.c`.
pub fn note_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    strip_note_extension(name)
}

pub fn strip_note_extension(name: &str) -> &str {
    let lower_ends = |ext: &str| {
        name.len() > ext.len()
            && name.is_char_boundary(name.len() - ext.len())
            && name[name.len() - ext.len()..].eq_ignore_ascii_case(ext)
    };
    if lower_ends(".md") {
        &name[..name.len() - 3]
    } else if lower_ends(".markdown") {
        &name[..name.len() - 9]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let root = Path::new("/v/root");
        assert_eq!(rel_path_string(root, Path::new("/v/root/a/b.md")).unwrap(), "a/b.md");
        assert_eq!(rel_path_string(root, Path::new("/v/root/a/./b.md")).unwrap(), "a/b.md");
        assert_eq!(rel_path_string(root, Path::new("/v/rootx/b.md")).unwrap(), "v/rootx/b.md");
    }

    #[test]
    fn join_handles_dots_and_refuses_escape() {
        assert_eq!(join_normalized("a/b", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join_normalized("", "./x/y.md").as_deref(), Some("x/y.md"));
        assert_eq!(join_normalized("a", "../../x.md"), None);
    }

    #[test]
    fn stems_keep_inner_dots() {
        assert_eq!(note_stem("dendron.topic.cli.md"), "dendron.topic.cli");
        assert_eq!(note_stem("a/b/Note.MD"), "Note");
        assert_eq!(note_stem("x.markdown"), "x");
        assert_eq!(note_stem("plain"), "plain");
        assert_eq!(note_stem(".md"), ".md");
    }

    #[test]
    fn parent_of_root_note_is_empty() {
        assert_eq!(parent_dir("a.md"), "");
        assert_eq!(parent_dir("x/y/a.md"), "x/y");
    }
}
