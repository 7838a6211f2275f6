//! The bm25 signal: tantivy over title, aliases, headings, tags, body and path, with field
//! boosts so a word in a title outranks the same word deep in a body.

use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::Value;
use tantivy::{ReloadPolicy, TantivyDocument};

use crate::error::{Result, SqlContext};
use crate::text::TextIndex;

/// Field boosts: title > aliases > headings > tags > body > path words.
const BOOSTS: Boosts = Boosts { title: 3.0, aliases: 2.5, headings: 1.5, tags: 1.2, body: 1.0, path: 0.5 };

struct Boosts {
    title: f32,
    aliases: f32,
    headings: f32,
    tags: f32,
    body: f32,
    path: f32,
}

/// Up to `limit` (path, score) best first, and whether the query had syntax errors (the
/// lenient parser then searches what it could make of it as plain terms).
pub fn search(text: &TextIndex, query: &str, limit: usize) -> Result<(Vec<(String, f32)>, bool)> {
    let f = text.fields;
    let mut parser =
        QueryParser::for_index(&text.index, vec![f.title, f.aliases, f.headings, f.tags, f.body, f.path_words]);
    for (field, boost) in [
        (f.title, BOOSTS.title),
        (f.aliases, BOOSTS.aliases),
        (f.headings, BOOSTS.headings),
        (f.tags, BOOSTS.tags),
        (f.body, BOOSTS.body),
        (f.path_words, BOOSTS.path),
    ] {
        parser.set_field_boost(field, boost);
    }
    let (parsed, errors) = parser.parse_query_lenient(query);
    let reader = text.index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().at(text.dir())?;
    let searcher = reader.searcher();
    let top = searcher.search(&parsed, &TopDocs::with_limit(limit.max(1)).order_by_score()).at(text.dir())?;
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).at(text.dir())?;
        if let Some(path) = doc.get_first(f.path).and_then(|v| v.as_str()) {
            hits.push((path.to_string(), score));
        }
    }
    Ok((hits, !errors.is_empty()))
}
