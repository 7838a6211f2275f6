//! Stale summaries: a note's `summary` has stayed the same while its body moved on. In a git
//! repository the baseline is the body as it was in the oldest commit of the run of commits
//! that carry today's summary (when the summary was last written); outside git, or for a note
//! git does not know yet, it is the body recorded in `.exo/summaries.json` when exo first saw
//! that summary. The body has moved on when its word-set overlap with the baseline is low and
//! the words of the summary are leaving it (or the overlap is very low).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use exo_index::Index;
use exo_index::graph::Graph;
use exo_vault::{ReadNote, Vault};
use git2::{Oid, Repository, Sort};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::GardenError;
use crate::finding::{Finding, Kind, Severity};
use crate::prose::Prose;
use crate::settings::GardenSettings;

const RECORD_FILE: &str = "summaries.json";

/// A note's summary and body as they are now in the working tree.
struct Current {
    id: usize,
    path: String,
    summary: String,
    body: String,
    bytes: Vec<u8>,
}

/// The body a summary was written for, and where that knowledge comes from.
struct Baseline {
    body: String,
    /// (short commit id, commit date) when it comes from git.
    commit: Option<(String, String)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Recorded {
    summary: String,
    body: String,
}

pub fn detect(
    index: &Index,
    graph: &Graph,
    settings: &GardenSettings,
) -> Result<(Vec<Finding>, Option<String>), GardenError> {
    let vault = index.vault();
    let current: Vec<Current> =
        (0..graph.notes().len()).into_par_iter().filter_map(|id| read_current(vault, graph, id)).collect();
    if current.is_empty() {
        return Ok((Vec::new(), None));
    }
    let (mut from_git, note) = match git_baselines(vault, &current, settings.history_depth) {
        Ok(found) => (found, None),
        Err(reason) => (
            HashMap::new(),
            Some(format!("stale-summary: {reason}; compared with the bodies recorded in .exo/{RECORD_FILE}")),
        ),
    };
    // Git knows the history of committed notes; the record covers the others.
    let unknown_to_git: Vec<&Current> = current.iter().filter(|c| !from_git.contains_key(&c.id)).collect();
    let recorded = update_record(&index.layout().dir.join(RECORD_FILE), &unknown_to_git);
    let mut findings = Vec::new();
    for note in &current {
        let baseline = from_git.remove(&note.id).or_else(|| {
            recorded
                .get(&note.path)
                .filter(|r| r.summary == note.summary)
                .map(|r| Baseline { body: r.body.clone(), commit: None })
        });
        if let Some(baseline) = baseline {
            findings.extend(judge(note, &baseline, settings));
        }
    }
    Ok((findings, note))
}

fn read_current(vault: &Vault, graph: &Graph, id: usize) -> Option<Current> {
    let path = &graph.note(id).path;
    graph.note(id).summary.as_ref()?;
    let ReadNote::Read { bytes, .. } = vault.read(path) else { return None };
    let (summary, body) = summary_and_body(vault, path, &bytes)?;
    Some(Current { id, path: path.clone(), summary, body, bytes })
}

fn summary_and_body(vault: &Vault, path: &str, bytes: &[u8]) -> Option<(String, String)> {
    let prose = Prose::parse(vault, path, bytes);
    let body = prose.body().to_string();
    Some((prose.note.summary?, body))
}

fn judge(note: &Current, baseline: &Baseline, settings: &GardenSettings) -> Option<Finding> {
    if baseline.body == note.body {
        return None;
    }
    let (then, now) = (words(&baseline.body), words(&note.body));
    let overlap = jaccard(&then, &now);
    let summary_words = words(&note.summary);
    let (support_then, support_now) =
        (summary_words.intersection(&then).count(), summary_words.intersection(&now).count());
    // A reworded body keeps the words its summary uses; a replaced one loses them. Below half
    // the threshold the body is a different text either way.
    let moved_on = overlap < settings.summary_min_overlap
        && (support_now < support_then || overlap < settings.summary_min_overlap / 2.0);
    if !moved_on {
        return None;
    }
    let overlap = (overlap * 1000.0).round() / 1000.0;
    let since = match &baseline.commit {
        Some((commit, date)) => format!("since commit {commit} ({date})"),
        None => "since exo first saw this summary".to_string(),
    };
    Some(Finding {
        kind: Kind::StaleSummary,
        severity: Severity::Medium,
        // Word overlap with history is measured, not guessed: the summary was written for
        // another body.
        confidence: 1.0,
        path: note.path.clone(),
        related: Vec::new(),
        message: format!(
            "the summary is unchanged {since}, but the body has moved on (word overlap {overlap:.2}; {support_now} of the summary's {} words are still in it, {support_then} were)",
            summary_words.len()
        ),
        evidence: json!({
            "summary": note.summary,
            "since_commit": baseline.commit.as_ref().map(|c| &c.0),
            "since_date": baseline.commit.as_ref().map(|c| &c.1),
            "body_overlap": overlap,
            "words_then": then.len(),
            "words_now": now.len(),
            "summary_words": summary_words.len(),
            "summary_words_in_body_then": support_then,
            "summary_words_in_body_now": support_now,
        }),
        fix: format!(
            "rewrite the summary of {} so it describes the body as it is now (it was written for an earlier version)",
            note.path
        ),
    })
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().count() > 2).map(str::to_lowercase).collect()
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f32 {
    let union = a.union(b).count();
    if union == 0 { 1.0 } else { a.intersection(b).count() as f32 / union as f32 }
}

/// Reads the record, adds notes whose summary it has not seen (or has seen differently), and
/// writes it back when it changed. A record that cannot be read or written is not an error:
/// it only means less history next time.
fn update_record(path: &Path, current: &[&Current]) -> BTreeMap<String, Recorded> {
    let mut record: BTreeMap<String, Recorded> =
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
    let keep: std::collections::HashSet<&str> = current.iter().map(|c| c.path.as_str()).collect();
    let before = record.len();
    record.retain(|path, _| keep.contains(path.as_str()));
    let mut changed = record.len() != before;
    for note in current {
        if record.get(&note.path).is_none_or(|r| r.summary != note.summary) {
            record.insert(note.path.clone(), Recorded { summary: note.summary.clone(), body: note.body.clone() });
            changed = true;
        }
    }
    if changed
        && let Ok(json) = serde_json::to_vec(&record)
        && (!record.is_empty() || path.exists())
    {
        let tmp = path.with_extension("json.tmp");
        if std::fs::write(&tmp, json).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
    record
}

/// Per note: the body in the oldest commit of the unbroken run (newest first) of commits in
/// which the note has today's summary, with that commit's short id and date.
type GitBaselines = HashMap<usize, Baseline>;

fn git_baselines(vault: &Vault, current: &[Current], depth: usize) -> Result<GitBaselines, String> {
    let repo = Repository::discover(vault.root()).map_err(|_| "not a git repository".to_string())?;
    let prefix = repo_prefix(&repo, vault.root()).ok_or("the vault is outside the repository's working tree")?;
    let mut walk = repo.revwalk().map_err(|e| e.message().to_string())?;
    if walk.push_head().is_err() {
        return Err("no commits yet".into());
    }
    let _ = walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME);
    let mut open: Vec<Track> = current.iter().map(|c| Track::new(c, &prefix)).collect();
    for oid in walk.take(depth).flatten() {
        if open.iter().all(|t| t.done) {
            break;
        }
        let Ok(commit) = repo.find_commit(oid) else { continue };
        let Ok(tree) = commit.tree() else { continue };
        let blobs = blob_ids(&tree, &prefix);
        let stamp = (short_id(commit.id()), commit_date(&commit));
        for track in open.iter_mut().filter(|t| !t.done) {
            track.visit(vault, &repo, blobs.get(&track.repo_path).copied(), &stamp);
        }
    }
    Ok(open.into_iter().filter_map(|t| Some((t.note.id, t.baseline?))).collect())
}

/// Every blob under `prefix` in one walk of the tree, by repository path: one pass per
/// commit instead of one path lookup per note.
fn blob_ids(tree: &git2::Tree, prefix: &str) -> HashMap<String, Oid> {
    let mut blobs = HashMap::new();
    let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if !dir.starts_with(prefix) && !prefix.starts_with(dir) {
            return git2::TreeWalkResult::Skip;
        }
        if entry.kind() == Some(git2::ObjectType::Blob)
            && let Ok(name) = entry.name()
        {
            blobs.insert(format!("{dir}{name}"), entry.id());
        }
        git2::TreeWalkResult::Ok
    });
    blobs
}

struct Track<'a> {
    repo_path: String,
    note: &'a Current,
    /// The blob id the working-tree file would have: a commit holding exactly that needs no
    /// parsing (same summary, same body).
    current_blob: Option<Oid>,
    last_blob: Option<Oid>,
    baseline: Option<Baseline>,
    done: bool,
}

impl<'a> Track<'a> {
    fn new(note: &'a Current, prefix: &str) -> Track<'a> {
        Track {
            repo_path: format!("{prefix}{}", note.path),
            note,
            current_blob: Oid::hash_object(git2::ObjectType::Blob, &note.bytes).ok(),
            last_blob: None,
            baseline: None,
            done: false,
        }
    }

    fn visit(&mut self, vault: &Vault, repo: &Repository, blob: Option<Oid>, stamp: &(String, String)) {
        let Some(blob) = blob else {
            self.done = true;
            return;
        };
        if Some(blob) == self.last_blob {
            if let Some(baseline) = &mut self.baseline {
                baseline.commit = Some(stamp.clone());
            }
            return;
        }
        if Some(blob) == self.current_blob {
            self.last_blob = Some(blob);
            self.baseline = Some(Baseline { body: self.note.body.clone(), commit: Some(stamp.clone()) });
            return;
        }
        let Ok(content) = repo.find_blob(blob) else {
            self.done = true;
            return;
        };
        match summary_and_body(vault, &self.note.path, content.content()) {
            Some((summary, body)) if summary == self.note.summary => {
                self.last_blob = Some(blob);
                self.baseline = Some(Baseline { body, commit: Some(stamp.clone()) });
            }
            _ => self.done = true,
        }
    }
}

/// The vault root relative to the repository's working tree, as a prefix ending in `/`.
fn repo_prefix(repo: &Repository, root: &Path) -> Option<String> {
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let root: PathBuf = root.canonicalize().ok()?;
    let relative = root.strip_prefix(&workdir).ok()?;
    let mut prefix: String =
        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
    if !prefix.is_empty() {
        prefix.push('/');
    }
    Some(prefix)
}

fn short_id(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

fn commit_date(commit: &git2::Commit) -> String {
    let seconds = commit.time().seconds().max(0) as u64;
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
    humantime::format_rfc3339_seconds(time).to_string()[..10].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_of_word_sets() {
        let a = words("The method of loci places items along a route");
        let b = words("The method of loci places items along a route.");
        assert_eq!(jaccard(&a, &b), 1.0);
        let c = words("Virtual reality rooms in a headset app");
        assert!(jaccard(&a, &c) < 0.1);
        assert_eq!(jaccard(&BTreeSet::new(), &BTreeSet::new()), 1.0);
    }
}
