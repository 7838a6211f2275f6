//! Findings that are plain facts of the graph and the catalog: orphans, wanted notes, broken
//! anchors, stubs, invalid frontmatter. Being facts, not guesses, they all have confidence 1.

use exo_index::graph::Graph;
use exo_vault::WarningKind;
use serde_json::json;

use crate::finding::{Finding, Kind, Severity};
use crate::settings::GardenSettings;

pub fn detect(graph: &Graph, settings: &GardenSettings, wants: &dyn Fn(Kind) -> bool, out: &mut Vec<Finding>) {
    if wants(Kind::Orphan) {
        out.extend(orphans(graph, settings));
    }
    if wants(Kind::Unresolved) {
        out.extend(unresolved(graph));
    }
    if wants(Kind::BrokenAnchor) {
        out.extend(broken_anchors(graph));
    }
    if wants(Kind::Stub) {
        out.extend(stubs(graph, settings));
    }
    if wants(Kind::InvalidFrontmatter) {
        out.extend(invalid_frontmatter(graph));
    }
}

fn orphans(graph: &Graph, settings: &GardenSettings) -> Vec<Finding> {
    graph
        .orphans(&settings.roots)
        .into_iter()
        .map(|id| {
            let note = graph.note(id);
            let unresolved_out = graph.outgoing(id).filter(|l| l.is_unresolved()).count();
            Finding {
                kind: Kind::Orphan,
                severity: Severity::Low,
                confidence: 1.0,
                path: note.path.clone(),
                related: Vec::new(),
                message: format!("{} has no links to or from other notes", note.title),
                evidence: json!({ "links_out": 0, "links_in": 0, "unresolved_links_out": unresolved_out, "words": note.word_count }),
                fix: format!(
                    "link {:?} from a note on the same topic (search: `exo search \"{}\"`), or link out from it; delete it if it is no longer wanted",
                    note.title, note.title
                ),
            }
        })
        .collect()
}

fn unresolved(graph: &Graph) -> Vec<Finding> {
    graph
        .wanted()
        .into_iter()
        .map(|wanted| {
            let first = wanted.referrers.first().map(|r| r.path.clone()).unwrap_or_default();
            let mut related: Vec<String> = wanted.referrers.iter().skip(1).map(|r| r.path.clone()).collect();
            related.dedup();
            let referrers: Vec<serde_json::Value> =
                wanted.referrers.iter().map(|r| json!({ "path": r.path, "line": r.line })).collect();
            Finding {
                kind: Kind::Unresolved,
                severity: Severity::Medium,
                confidence: 1.0,
                path: first,
                related,
                message: format!("{:?} is linked {} time(s) but no note answers to it", wanted.target, wanted.count),
                evidence: json!({ "target": wanted.target, "count": wanted.count, "referrers": referrers }),
                fix: format!(
                    "create a note titled {:?} (a wanted note), or point the link(s) at an existing note",
                    wanted.target.trim_end_matches(".md")
                ),
            }
        })
        .collect()
}

fn broken_anchors(graph: &Graph) -> Vec<Finding> {
    graph
        .broken_anchors()
        .into_iter()
        .map(|broken| Finding {
            kind: Kind::BrokenAnchor,
            severity: Severity::Low,
            confidence: 1.0,
            path: broken.path.clone(),
            related: vec![broken.target_path.clone()],
            message: format!(
                "line {} links to #{} in {}, which has no such heading or block",
                broken.line, broken.anchor, broken.target_path
            ),
            evidence: json!({ "line": broken.line, "target": broken.target, "target_path": broken.target_path, "anchor": broken.anchor }),
            fix: format!(
                "point the link at an existing heading of {} (`exo parse {:?}` lists them), or drop the #anchor",
                broken.target_path, broken.target_path
            ),
        })
        .collect()
}

fn stubs(graph: &Graph, settings: &GardenSettings) -> Vec<Finding> {
    (0..graph.notes().len())
        .filter(|&id| graph.note(id).word_count < settings.stub_words)
        .map(|id| {
            let note = graph.note(id);
            Finding {
                kind: Kind::Stub,
                severity: Severity::Low,
                confidence: 1.0,
                path: note.path.clone(),
                related: Vec::new(),
                message: format!("{} has {} words (stubs: under {})", note.title, note.word_count, settings.stub_words),
                evidence: json!({ "words": note.word_count, "stub_words": settings.stub_words }),
                fix: format!(
                    "expand {:?} into a note that stands on its own, or merge it into the note it belongs to",
                    note.title
                ),
            }
        })
        .collect()
}

fn invalid_frontmatter(graph: &Graph) -> Vec<Finding> {
    let mut found = Vec::new();
    for note in graph.notes() {
        for warning in &note.warnings {
            if !matches!(warning.kind, WarningKind::InvalidFrontmatter | WarningKind::UnclosedFrontmatter) {
                continue;
            }
            found.push(Finding {
                kind: Kind::InvalidFrontmatter,
                severity: Severity::High,
                confidence: 1.0,
                path: note.path.clone(),
                related: Vec::new(),
                message: format!("frontmatter is not valid YAML: {}", warning.message),
                evidence: json!({ "warning": warning.kind, "message": warning.message }),
                fix: "fix the YAML between the --- lines (quotes and brackets must close); until then its title, tags and aliases are ignored".into(),
            });
        }
    }
    found
}
