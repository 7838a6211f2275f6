//! The link graph as the catalog holds it, loaded once into memory for walking: notes with
//! their names, every link with where it points, and the queries the CLI, the MCP server and
//! the garden share (links, backlinks, neighbours, shortest path, orphans, wanted notes,
//! export). Everything is ordered deterministically: by path, then line.
//!
//! Questions about one note (its links, its backlinks) are answered without loading the graph
//! by [`NoteLinks`] (`one_note`), with the same answers.

use std::collections::{BTreeMap, HashMap, VecDeque};

use exo_vault::path::{note_stem, strip_note_extension};
use exo_vault::resolve::fold;
use exo_vault::{Link, LinkKind, Span, Warning};
use serde::Serialize;

use crate::error::{IndexError, Result, SqlContext};
use crate::store::Index;
use crate::store::catalog::Catalog;

mod one_note;

pub use one_note::{FoundNote, NoteLinks, ResolvedLink};

/// What the index knows of one note, minus its text.
#[derive(Debug, Clone, Serialize)]
pub struct NoteInfo {
    pub path: String,
    pub title: String,
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub aliases: Vec<String>,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub word_count: usize,
    pub warnings: Vec<Warning>,
    #[serde(skip)]
    heading_slugs: Vec<String>,
    #[serde(skip)]
    block_ids: Vec<String>,
}

/// One link as written in a note (the parser's [`Link`]), and where it points.
#[derive(Debug, Clone, Serialize)]
pub struct LinkInfo {
    /// The note the link is written in.
    pub src: usize,
    /// The note it resolves to; None when unresolved or when it names an attachment.
    pub dst: Option<usize>,
    pub attachment: Option<String>,
    #[serde(flatten)]
    pub written: Link,
}

impl LinkInfo {
    /// `[[#heading]]`: a link within its own note.
    pub fn is_self_link(&self) -> bool {
        self.written.is_self_link() || self.dst == Some(self.src)
    }

    pub fn is_unresolved(&self) -> bool {
        !self.written.is_self_link() && self.dst.is_none() && self.attachment.is_none()
    }
}

/// Which way a step of a path follows a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The previous note links to this one.
    Out,
    /// This note links to the previous one.
    In,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub path: String,
    pub title: String,
    /// How this note was reached from the previous step (None for the first).
    pub via: Option<Direction>,
}

/// A link target no note answers to: a note someone wants written.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Wanted {
    /// The target as first written (by path, then line).
    pub target: String,
    pub count: usize,
    pub referrers: Vec<Referrer>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Referrer {
    pub path: String,
    pub line: u32,
}

/// A link that reaches its note but not the heading or block it names.
#[derive(Debug, Clone, Serialize)]
pub struct BrokenAnchor {
    pub path: String,
    pub line: u32,
    pub target: String,
    pub target_path: String,
    pub anchor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportNode {
    pub path: String,
    pub title: String,
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub tags: Vec<String>,
    pub in_degree: usize,
    pub out_degree: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportEdge {
    pub src: String,
    pub dst: String,
    pub kind: LinkKind,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct GraphExport {
    pub nodes: Vec<ExportNode>,
    pub edges: Vec<ExportEdge>,
}

/// The whole graph, read in one go from the catalog.
pub struct Graph {
    notes: Vec<NoteInfo>,
    by_path: HashMap<String, usize>,
    links: Vec<LinkInfo>,
    /// Link indexes by source note, in line order.
    outgoing: Vec<Vec<usize>>,
    /// Link indexes by destination note, ordered by source path and line.
    incoming: Vec<Vec<usize>>,
}

impl Index {
    /// Loads the link graph from the index (an error when there is no index yet).
    pub fn graph(&self) -> Result<Graph> {
        let layout = self.layout();
        let catalog = Catalog::open_required(&layout.catalog)?;
        Graph::load(&catalog)
    }
}

impl Graph {
    pub(crate) fn load(catalog: &Catalog) -> Result<Graph> {
        let mut notes = load_notes(catalog)?;
        let by_path: HashMap<String, usize> = notes.iter().enumerate().map(|(i, n)| (n.path.clone(), i)).collect();
        let ids = load_children(catalog, &mut notes, &by_path)?;
        let links = load_links(catalog, &ids)?;
        let mut outgoing = vec![Vec::new(); notes.len()];
        let mut incoming = vec![Vec::new(); notes.len()];
        for (i, link) in links.iter().enumerate() {
            outgoing[link.src].push(i);
            if let Some(dst) = link.dst {
                incoming[dst].push(i);
            }
        }
        Ok(Graph { notes, by_path, links, outgoing, incoming })
    }

    pub fn notes(&self) -> &[NoteInfo] {
        &self.notes
    }

    pub fn note(&self, id: usize) -> &NoteInfo {
        &self.notes[id]
    }

    pub fn links(&self) -> &[LinkInfo] {
        &self.links
    }

    pub fn by_path(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// Links written in a note, in line order.
    pub fn outgoing(&self, id: usize) -> impl Iterator<Item = &LinkInfo> {
        self.outgoing[id].iter().map(|&i| &self.links[i])
    }

    /// Links from other notes to this one, by source path and line.
    pub fn incoming(&self, id: usize) -> impl Iterator<Item = &LinkInfo> {
        self.incoming[id].iter().map(|&i| &self.links[i]).filter(|l| !l.is_self_link())
    }

    /// True when `from` has a link that resolves to `to`.
    pub fn links_to(&self, from: usize, to: usize) -> bool {
        self.outgoing(from).any(|l| l.dst == Some(to))
    }

    /// True when either note links to the other.
    pub fn linked(&self, a: usize, b: usize) -> bool {
        self.links_to(a, b) || self.links_to(b, a)
    }

    /// Notes one link away in either direction, without duplicates, in path order.
    pub fn adjacent(&self, id: usize) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .outgoing(id)
            .filter_map(|l| l.dst)
            .chain(self.incoming(id).map(|l| l.src))
            .filter(|&other| other != id)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Finds a note by vault-relative path (with or without `.md`), title or alias, ignoring
    /// case. Several notes with that name is an error that lists them.
    pub fn find(&self, reference: &str) -> Result<usize> {
        let wanted = reference.trim().trim_start_matches("./");
        if let Some(id) = self.by_path(wanted).or_else(|| self.by_path(&format!("{wanted}.md"))) {
            return Ok(id);
        }
        let notes = &self.notes;
        find_among(reference, notes.len(), |i| (&notes[i].path, &notes[i].title, &notes[i].aliases))
    }

    /// Notes within `depth` links in either direction, as (note, distance), nearest first.
    pub fn neighbors(&self, id: usize, depth: usize) -> Vec<(usize, usize)> {
        let distances = self.distances(id, depth);
        let mut found: Vec<(usize, usize)> = distances.into_iter().filter(|&(n, _)| n != id).collect();
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| self.notes[a.0].path.cmp(&self.notes[b.0].path)));
        found
    }

    /// Breadth-first distances (links in either direction) up to `max_depth`.
    pub fn distances(&self, from: usize, max_depth: usize) -> HashMap<usize, usize> {
        self.distances_avoiding(from, max_depth, &[])
    }

    /// Like [`Graph::distances`], but never walking through the `hubs` (a map note that
    /// links to everything would make every pair two hops apart).
    pub fn distances_avoiding(&self, from: usize, max_depth: usize, hubs: &[usize]) -> HashMap<usize, usize> {
        let mut seen = HashMap::from([(from, 0)]);
        let mut queue = VecDeque::from([from]);
        while let Some(node) = queue.pop_front() {
            let depth = seen[&node];
            if depth >= max_depth || (node != from && hubs.contains(&node)) {
                continue;
            }
            for next in self.adjacent(node) {
                if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(next) {
                    slot.insert(depth + 1);
                    queue.push_back(next);
                }
            }
        }
        seen
    }

    /// A shortest chain of links from `from` to `to`; `directed` follows links only the way
    /// they are written. Ties go to the path-wise smallest note at each step.
    pub fn shortest_path(&self, from: usize, to: usize, directed: bool) -> Option<Vec<Step>> {
        let mut previous: HashMap<usize, (usize, Direction)> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        let mut seen = vec![false; self.notes.len()];
        seen[from] = true;
        while let Some(node) = queue.pop_front() {
            if node == to {
                return Some(self.unwind(from, to, &previous));
            }
            for (next, direction) in self.steps_from(node, directed) {
                if !seen[next] {
                    seen[next] = true;
                    previous.insert(next, (node, direction));
                    queue.push_back(next);
                }
            }
        }
        None
    }

    fn steps_from(&self, node: usize, directed: bool) -> Vec<(usize, Direction)> {
        let mut steps: Vec<(usize, Direction)> =
            self.outgoing(node).filter_map(|l| l.dst).map(|d| (d, Direction::Out)).collect();
        if !directed {
            steps.extend(self.incoming(node).map(|l| (l.src, Direction::In)));
        }
        steps.retain(|&(n, _)| n != node);
        steps.sort_by(|a, b| self.notes[a.0].path.cmp(&self.notes[b.0].path).then((a.1 as u8).cmp(&(b.1 as u8))));
        steps.dedup_by_key(|s| s.0);
        steps
    }

    fn unwind(&self, from: usize, to: usize, previous: &HashMap<usize, (usize, Direction)>) -> Vec<Step> {
        let mut chain = Vec::new();
        let mut node = to;
        while node != from {
            let Some(&(before, direction)) = previous.get(&node) else { break };
            chain.push(self.step(node, Some(direction)));
            node = before;
        }
        chain.push(self.step(from, None));
        chain.reverse();
        chain
    }

    fn step(&self, id: usize, via: Option<Direction>) -> Step {
        Step { path: self.notes[id].path.clone(), title: self.notes[id].title.clone(), via }
    }

    /// Notes with no link to or from another note, except the `roots` (paths) the vault
    /// declares, such as a map note. Unresolved links connect nothing.
    pub fn orphans(&self, roots: &[String]) -> Vec<usize> {
        (0..self.notes.len())
            .filter(|&id| !roots.iter().any(|r| r == &self.notes[id].path))
            .filter(|&id| self.adjacent(id).is_empty())
            .collect()
    }

    /// Unresolved link targets grouped case-insensitively, most wanted first.
    pub fn wanted(&self) -> Vec<Wanted> {
        let mut groups: BTreeMap<String, Wanted> = BTreeMap::new();
        let mut order: Vec<usize> = (0..self.links.len()).filter(|&i| self.links[i].is_unresolved()).collect();
        order.sort_by(|&a, &b| self.link_order(a, b));
        for i in order {
            let link = &self.links[i];
            let key = fold(strip_note_extension(&link.written.target));
            let entry = groups.entry(key).or_insert_with(|| Wanted {
                target: link.written.target.clone(),
                count: 0,
                referrers: Vec::new(),
            });
            entry.count += 1;
            entry.referrers.push(Referrer { path: self.notes[link.src].path.clone(), line: link.written.line });
        }
        let mut wanted: Vec<Wanted> = groups.into_values().collect();
        wanted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| fold(&a.target).cmp(&fold(&b.target))));
        wanted
    }

    /// Links whose note exists but whose `#heading` or `#^block` does not.
    pub fn broken_anchors(&self) -> Vec<BrokenAnchor> {
        let mut order: Vec<usize> = (0..self.links.len()).collect();
        order.sort_by(|&a, &b| self.link_order(a, b));
        let mut broken = Vec::new();
        for i in order {
            let link = &self.links[i];
            let Some(dst) = link.dst.or(link.written.is_self_link().then_some(link.src)) else { continue };
            let note = &self.notes[dst];
            let missing = match (&link.written.heading, &link.written.block) {
                (_, Some(block)) if !note.block_ids.iter().any(|b| b.eq_ignore_ascii_case(block)) => {
                    Some(format!("^{block}"))
                }
                (Some(heading), None) if !has_heading(note, heading) => Some(heading.clone()),
                _ => None,
            };
            if let Some(anchor) = missing {
                broken.push(BrokenAnchor {
                    path: self.notes[link.src].path.clone(),
                    line: link.written.line,
                    target: link.written.target.clone(),
                    target_path: note.path.clone(),
                    anchor,
                });
            }
        }
        broken
    }

    fn link_order(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let (la, lb) = (&self.links[a], &self.links[b]);
        self.notes[la.src].path.cmp(&self.notes[lb.src].path).then(la.written.span.start.cmp(&lb.written.span.start))
    }

    /// Nodes with degrees and note-to-note edges (merged per source, target and kind). A
    /// degree counts the notes linked, however many kinds of link join them (a parent linked
    /// in the properties and again in the body is one neighbour).
    pub fn export(&self) -> GraphExport {
        // Keyed by the kind's name so edges sort as they print.
        let mut edges: BTreeMap<(String, String, &'static str), (LinkKind, usize)> = BTreeMap::new();
        let mut joined: std::collections::HashSet<(usize, usize)> = std::collections::HashSet::new();
        let mut in_degree = vec![0; self.notes.len()];
        let mut out_degree = vec![0; self.notes.len()];
        for link in self.links.iter().filter(|l| !l.is_self_link()) {
            let Some(dst) = link.dst else { continue };
            let kind = link.written.kind;
            let key = (self.notes[link.src].path.clone(), self.notes[dst].path.clone(), kind.as_str());
            let (_, count) = edges.entry(key).or_insert((kind, 0));
            if joined.insert((link.src, dst)) {
                out_degree[link.src] += 1;
                in_degree[dst] += 1;
            }
            *count += 1;
        }
        let nodes = self
            .notes
            .iter()
            .enumerate()
            .map(|(i, n)| ExportNode {
                path: n.path.clone(),
                title: n.title.clone(),
                note_type: n.note_type.clone(),
                tags: n.tags.clone(),
                in_degree: in_degree[i],
                out_degree: out_degree[i],
            })
            .collect();
        let edges =
            edges.into_iter().map(|((src, dst, _), (kind, count))| ExportEdge { src, dst, kind, count }).collect();
        GraphExport { nodes, edges }
    }
}

impl GraphExport {
    /// Graphviz DOT: one node per note (labelled by title), one edge per link kind.
    pub fn to_dot(&self) -> String {
        let mut dot = String::from("digraph exo {\n  node [shape=box, style=rounded];\n");
        for node in &self.nodes {
            dot.push_str(&format!("  {} [label={}];\n", dot_quote(&node.path), dot_quote(&node.title)));
        }
        for edge in &self.edges {
            let style = if edge.kind == LinkKind::Embed { " [style=dashed]" } else { "" };
            dot.push_str(&format!("  {} -> {}{style};\n", dot_quote(&edge.src), dot_quote(&edge.dst)));
        }
        dot.push_str("}\n");
        dot
    }
}

/// A DOT string. Control characters from note names are written as visible `\\xNN`
/// (DOT has no escape for them): raw, an ESC in a name would drive the terminal the graph
/// is printed on; the same name always gives the same text, so edges still meet their nodes.
fn dot_quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '"' => quoted.push_str("\\\""),
            c if c.is_control() => quoted.push_str(&format!("\\\\x{:02x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The name stages of a lookup that is not an exact path, over `count` notes in path order
/// (`names(i)` gives the i-th note's path, title and aliases): folded path, then title or
/// file stem, then alias. The first stage with any match decides; several is an error.
pub(crate) fn find_among<'a>(
    reference: &str,
    count: usize,
    names: impl Fn(usize) -> (&'a String, &'a String, &'a Vec<String>),
) -> Result<usize> {
    let wanted = reference.trim().trim_start_matches("./");
    let key = fold(strip_note_extension(wanted));
    let stages: [&dyn Fn(usize) -> bool; 3] = [
        &|i| fold(strip_note_extension(names(i).0)) == key,
        &|i| {
            let (path, title, _) = names(i);
            fold(title) == key || fold(note_stem(path)) == key
        },
        &|i| names(i).2.iter().any(|a| fold(a) == key),
    ];
    for matches in stages {
        let found: Vec<usize> = (0..count).filter(|&i| matches(i)).collect();
        match found.as_slice() {
            [] => continue,
            [one] => return Ok(*one),
            many => {
                let candidates = many.iter().map(|&i| names(i).0.clone()).collect();
                return Err(IndexError::AmbiguousNote { name: reference.to_string(), candidates });
            }
        }
    }
    Err(IndexError::NoteNotFound { name: reference.to_string() })
}

fn has_heading(note: &NoteInfo, heading: &str) -> bool {
    let slug = exo_vault::slugify(heading);
    note.heading_slugs.contains(&slug)
}

fn load_notes(catalog: &Catalog) -> Result<Vec<NoteInfo>> {
    let sql = "SELECT path, title, type, summary, created, updated, word_count, warnings FROM notes ORDER BY path";
    let mut stmt = catalog.conn.prepare(sql).at(&catalog.path)?;
    let rows = stmt
        .query_map([], |r| {
            let warnings: Option<String> = r.get(7)?;
            Ok(NoteInfo {
                path: r.get(0)?,
                title: r.get(1)?,
                note_type: r.get(2)?,
                summary: r.get(3)?,
                created: r.get(4)?,
                updated: r.get(5)?,
                word_count: r.get::<_, i64>(6)? as usize,
                warnings: parse_warnings(warnings.as_deref()),
                aliases: Vec::new(),
                tags: Vec::new(),
                heading_slugs: Vec::new(),
                block_ids: Vec::new(),
            })
        })
        .at(&catalog.path)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().at(&catalog.path)
}

/// Warnings are stored as the parser's JSON list.
fn parse_warnings(json: Option<&str>) -> Vec<Warning> {
    json.and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default()
}

/// Aliases, tags, heading slugs and block ids; returns row id -> position in `notes`.
fn load_children(
    catalog: &Catalog,
    notes: &mut [NoteInfo],
    position: &HashMap<String, usize>,
) -> Result<HashMap<i64, usize>> {
    let mut ids = HashMap::new();
    {
        let mut stmt = catalog.conn.prepare("SELECT id, path FROM notes").at(&catalog.path)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).at(&catalog.path)?;
        for row in rows {
            let (id, path) = row.at(&catalog.path)?;
            if let Some(&i) = position.get(&path) {
                ids.insert(id, i);
            }
        }
    }
    type Push = fn(&mut NoteInfo, String);
    let queries: [(&str, Push); 4] = [
        ("SELECT note_id, alias FROM aliases ORDER BY rowid", |n, v| n.aliases.push(v)),
        ("SELECT note_id, tag FROM tags ORDER BY rowid", |n, v| {
            if !n.tags.contains(&v) {
                n.tags.push(v)
            }
        }),
        ("SELECT note_id, slug FROM headings ORDER BY note_id, seq", |n, v| n.heading_slugs.push(v)),
        ("SELECT note_id, block_id FROM blocks ORDER BY rowid", |n, v| n.block_ids.push(v)),
    ];
    for (sql, push) in queries {
        let mut stmt = catalog.conn.prepare(sql).at(&catalog.path)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).at(&catalog.path)?;
        for row in rows {
            let (id, value) = row.at(&catalog.path)?;
            if let Some(&i) = ids.get(&id) {
                push(&mut notes[i], value);
            }
        }
    }
    Ok(ids)
}

fn load_links(catalog: &Catalog, ids: &HashMap<i64, usize>) -> Result<Vec<LinkInfo>> {
    let sql = "SELECT src_id, dst_id, dst_attachment, kind, target, heading, block, display, line, start_byte, end_byte
                 FROM links";
    let mut stmt = catalog.conn.prepare(sql).at(&catalog.path)?;
    let mut rows = stmt.query([]).at(&catalog.path)?;
    let mut links = Vec::new();
    while let Some(r) = rows.next().at(&catalog.path)? {
        let Some(&src) = ids.get(&r.get::<_, i64>(0).at(&catalog.path)?) else { continue };
        let dst: Option<i64> = r.get(1).at(&catalog.path)?;
        let kind: String = r.get(3).at(&catalog.path)?;
        let (start, end): (i64, i64) = (r.get(9).at(&catalog.path)?, r.get(10).at(&catalog.path)?);
        links.push(LinkInfo {
            src,
            dst: dst.and_then(|d| ids.get(&d).copied()),
            attachment: r.get(2).at(&catalog.path)?,
            written: Link {
                kind: LinkKind::parse(&kind).unwrap_or(LinkKind::Wiki),
                target: r.get(4).at(&catalog.path)?,
                heading: r.get(5).at(&catalog.path)?,
                block: r.get(6).at(&catalog.path)?,
                display: r.get(7).at(&catalog.path)?,
                line: r.get::<_, i64>(8).at(&catalog.path)? as u32,
                span: Span::new(start as usize, end as usize),
            },
        });
    }
    links.sort_by(|a, b| a.src.cmp(&b.src).then(a.written.span.start.cmp(&b.written.span.start)));
    Ok(links)
}

/// A link into a note, with the line it sits on.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Backlink {
    pub path: String,
    pub title: String,
    pub line: u32,
    pub kind: LinkKind,
    /// The source line as it reads on disk now (trimmed; empty when the file is gone).
    pub context: String,
}

impl Graph {
    /// Links from other notes into `id`, each with its line of text read from the vault.
    pub fn backlinks(&self, id: usize, vault_root: &std::path::Path) -> Vec<Backlink> {
        let mut files: HashMap<usize, Vec<String>> = HashMap::new();
        self.incoming(id)
            .map(|link| {
                let lines = files.entry(link.src).or_insert_with(|| read_lines(vault_root, &self.notes[link.src].path));
                let context = lines.get(link.written.line.saturating_sub(1) as usize).map(|l| l.trim().to_string());
                Backlink {
                    path: self.notes[link.src].path.clone(),
                    title: self.notes[link.src].title.clone(),
                    line: link.written.line,
                    kind: link.written.kind,
                    context: context.unwrap_or_default(),
                }
            })
            .collect()
    }
}

fn read_lines(root: &std::path::Path, path: &str) -> Vec<String> {
    std::fs::read(root.join(path))
        .map(|bytes| String::from_utf8_lossy(&bytes).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::dot_quote;

    #[test]
    fn dot_strings_are_quoted_and_inert() {
        assert_eq!(dot_quote("a/b.md"), "\"a/b.md\"");
        assert_eq!(dot_quote("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
        assert_eq!(dot_quote("clear\x1b[2J\nx"), "\"clear\\\\x1b[2J\\\\x0ax\"");
    }
}
