//! Filters on hits: tag (nested tags included), type, path prefix, frontmatter key=value.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Result, SqlContext};
use crate::store::catalog::Catalog;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    /// Every tag must be present; `memory` also admits `memory/spaced`.
    pub tags: Vec<String>,
    /// Any of these types.
    pub types: Vec<String>,
    pub path_prefix: Option<String>,
    /// Every frontmatter key must hold the value (a list holding it counts).
    pub fields: Vec<(String, String)>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.types.is_empty() && self.path_prefix.is_none() && self.fields.is_empty()
    }
}

/// What a hit shows of its note, read once per candidate.
#[derive(Debug, Clone)]
pub struct NoteMeta {
    pub id: i64,
    pub title: String,
    pub note_type: Option<String>,
    tags: Vec<String>,
    frontmatter: Option<serde_json::Value>,
}

pub struct Compiled<'c> {
    catalog: &'c Catalog,
    filters: Filters,
    cache: RefCell<HashMap<String, Option<NoteMeta>>>,
}

impl<'c> Compiled<'c> {
    pub fn new(catalog: &'c Catalog, filters: &Filters) -> Result<Compiled<'c>> {
        let normalize =
            |values: &[String]| values.iter().map(|v| v.trim().trim_start_matches('#').to_lowercase()).collect();
        let filters = Filters {
            tags: normalize(&filters.tags),
            types: normalize(&filters.types),
            path_prefix: filters
                .path_prefix
                .as_ref()
                .map(|p| p.trim_start_matches("./").to_string())
                .filter(|p| !p.is_empty()),
            fields: filters.fields.clone(),
        };
        Ok(Compiled { catalog, filters, cache: RefCell::new(HashMap::new()) })
    }

    pub fn admits(&self, path: &str) -> bool {
        if self.filters.is_empty() {
            return true;
        }
        if let Some(prefix) = &self.filters.path_prefix
            && !path.starts_with(prefix.as_str())
        {
            return false;
        }
        match self.meta(path) {
            Ok(Some(meta)) => self.admits_meta(&meta),
            _ => false,
        }
    }

    fn admits_meta(&self, meta: &NoteMeta) -> bool {
        let f = &self.filters;
        let has_tag = |wanted: &String| {
            meta.tags
                .iter()
                .any(|t| t == wanted || t.strip_prefix(wanted.as_str()).is_some_and(|rest| rest.starts_with('/')))
        };
        let type_ok = f.types.is_empty()
            || meta.note_type.as_ref().is_some_and(|t| f.types.iter().any(|w| w.eq_ignore_ascii_case(t)));
        type_ok
            && f.tags.iter().all(has_tag)
            && f.fields.iter().all(|(k, v)| field_holds(meta.frontmatter.as_ref(), k, v))
    }

    /// The note's title, type, tags and frontmatter; None when the catalog no longer has it.
    pub fn meta(&self, path: &str) -> Result<Option<NoteMeta>> {
        if let Some(cached) = self.cache.borrow().get(path) {
            return Ok(cached.clone());
        }
        let meta = read_meta(self.catalog, path)?;
        self.cache.borrow_mut().insert(path.to_string(), meta.clone());
        Ok(meta)
    }
}

fn read_meta(catalog: &Catalog, path: &str) -> Result<Option<NoteMeta>> {
    use rusqlite::OptionalExtension;
    let mut stmt = catalog
        .conn
        .prepare_cached("SELECT id, title, type, frontmatter FROM notes WHERE path = ?1")
        .at(&catalog.path)?;
    let row = stmt
        .query_row([path], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })
        .optional()
        .at(&catalog.path)?;
    let Some((id, title, note_type, frontmatter)) = row else {
        return Ok(None);
    };
    let mut stmt = catalog.conn.prepare_cached("SELECT DISTINCT tag FROM tags WHERE note_id = ?1").at(&catalog.path)?;
    let tags = stmt
        .query_map([id], |r| r.get::<_, String>(0))
        .at(&catalog.path)?
        .collect::<rusqlite::Result<Vec<String>>>()
        .at(&catalog.path)?;
    Ok(Some(NoteMeta {
        id,
        title,
        note_type,
        tags,
        frontmatter: frontmatter.and_then(|json| serde_json::from_str(&json).ok()),
    }))
}

/// `key=value` against frontmatter: strings compare case-insensitively, numbers and
/// booleans by their text, lists by membership.
fn field_holds(frontmatter: Option<&serde_json::Value>, key: &str, wanted: &str) -> bool {
    let Some(value) = frontmatter.and_then(|fm| fm.get(key)) else {
        return false;
    };
    let matches = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.eq_ignore_ascii_case(wanted),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
            serde_json::from_str::<serde_json::Value>(wanted).is_ok_and(|w| w == *v)
        }
        _ => false,
    };
    match value {
        serde_json::Value::Array(items) => items.iter().any(matches),
        other => matches(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frontmatter_values_match_by_kind() {
        let fm = json!({"status": "Draft", "rating": 4, "done": true, "authors": ["Ann", "Bo"]});
        assert!(field_holds(Some(&fm), "status", "draft"));
        assert!(field_holds(Some(&fm), "rating", "4"));
        assert!(field_holds(Some(&fm), "done", "true"));
        assert!(field_holds(Some(&fm), "authors", "bo"));
        assert!(!field_holds(Some(&fm), "authors", "cy"));
        assert!(!field_holds(Some(&fm), "missing", "x"));
        assert!(!field_holds(None, "status", "draft"));
    }
}
