//! The bm25 signal: tantivy over title, aliases, headings, tags, body and path, with field
//! boosts so a word in a title outranks the same word deep in a body.

use serde::Deserialize;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::Value;
use tantivy::{ReloadPolicy, TantivyDocument};

use crate::error::{Result, SqlContext};
use crate::store::text::TextIndex;

/// Extra weight for a query word found in a field, on top of the body field (which holds
/// the whole note, title included): title > aliases > headings > tags > path. Measured on
/// SciFact's train split: these small boosts give 0.686 nDCG@10, body alone 0.683, and
/// separate title and body fields with the title boosted 3x only 0.566 (a short title
/// field's BM25 length normalisation swamps the body). `[search.boosts]` in exo.toml.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Boosts {
    pub title: f32,
    pub aliases: f32,
    pub headings: f32,
    pub tags: f32,
    pub body: f32,
    pub path: f32,
}

impl Default for Boosts {
    fn default() -> Self {
        Boosts { title: 0.4, aliases: 0.35, headings: 0.25, tags: 0.2, body: 1.0, path: 0.1 }
    }
}

/// Up to `limit` (path, score) best first, and whether the query had syntax errors (the
/// lenient parser then searches what it could make of it as plain terms).
pub fn search(text: &TextIndex, query: &str, limit: usize, boosts: &Boosts) -> Result<(Vec<(String, f32)>, bool)> {
    let f = text.fields;
    let mut parser =
        QueryParser::for_index(&text.index, vec![f.title, f.aliases, f.headings, f.tags, f.body, f.path_words]);
    for (field, boost) in [
        (f.title, boosts.title),
        (f.aliases, boosts.aliases),
        (f.headings, boosts.headings),
        (f.tags, boosts.tags),
        (f.body, boosts.body),
        (f.path_words, boosts.path),
    ] {
        parser.set_field_boost(field, boost);
    }
    let (parsed, errors) = parser.parse_query_lenient(query);
    let reader = text.index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().at(text.dir())?;
    let searcher = reader.searcher();
    // The collector reserves room for `limit` hits up front (and panics at 0): never ask for
    // more than there are documents.
    let limit = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX).min(limit).max(1);
    let top = searcher.search(&parsed, &TopDocs::with_limit(limit).order_by_score()).at(text.dir())?;
    let mut hits = Vec::with_capacity(top.len());
    // A field boosted to zero still matches; a zero score says nothing, so it is no hit.
    for (score, address) in top.into_iter().filter(|(score, _)| *score > 0.0) {
        let doc: TantivyDocument = searcher.doc(address).at(text.dir())?;
        if let Some(path) = doc.get_first(f.path).and_then(|v| v.as_str()) {
            hits.push((path.to_string(), score));
        }
    }
    Ok((hits, !errors.is_empty()))
}
