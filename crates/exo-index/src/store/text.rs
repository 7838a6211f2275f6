//! The tantivy text index: one document per note, keyed by path.

use std::path::{Path, PathBuf};

use tantivy::index::SegmentComponent;
use tantivy::schema::{Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, IndexWriter, TantivyDocument, Term};

use crate::error::{IndexError, Result, SqlContext};
use crate::store::settings::TextSettings;
use crate::store::tokenizer::{CachedStemmer, WordAndCjkTokenizer};

/// Bump when fields or analysis change: an index built otherwise is rebuilt.
pub const TEXT_FORMAT_VERSION: u32 = 2;
pub const ANALYZER: &str = "exo_text";

#[derive(Debug, Clone, Copy)]
pub struct TextFields {
    pub path: Field,
    pub title: Field,
    pub aliases: Field,
    pub headings: Field,
    pub tags: Field,
    pub body: Field,
    pub path_words: Field,
}

pub struct TextIndex {
    pub(crate) index: Index,
    pub(crate) fields: TextFields,
    dir: PathBuf,
}

/// What `meta` records about how the text index was analysed.
pub fn fingerprint(settings: &TextSettings) -> String {
    format!("v{TEXT_FORMAT_VERSION}:{}", settings.language_name)
}

fn schema() -> (Schema, TextFields) {
    let mut builder = Schema::builder();
    let analysed = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored { options.set_stored() } else { options }
    };
    let fields = TextFields {
        path: builder.add_text_field("path", STRING | STORED),
        title: builder.add_text_field("title", analysed(true)),
        aliases: builder.add_text_field("aliases", analysed(false)),
        headings: builder.add_text_field("headings", analysed(false)),
        tags: builder.add_text_field("tags", analysed(false)),
        body: builder.add_text_field("body", analysed(false)),
        path_words: builder.add_text_field("path_words", analysed(false)),
    };
    (builder.build(), fields)
}

fn register_analyzer(index: &Index, settings: &TextSettings) {
    let builder = TextAnalyzer::builder(WordAndCjkTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    let analyzer = match settings.language {
        Some(language) => builder.filter(CachedStemmer::new(language)).build(),
        None => builder.build(),
    };
    index.tokenizers().register(ANALYZER, analyzer);
}

impl TextIndex {
    pub fn create(dir: &Path, settings: &TextSettings) -> Result<TextIndex> {
        crate::error::create_folder(dir)?;
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema).at(dir)?;
        register_analyzer(&index, settings);
        Ok(TextIndex { index, fields, dir: dir.to_path_buf() })
    }

    pub fn open(dir: &Path, settings: &TextSettings) -> Result<TextIndex> {
        if !dir.join("meta.json").is_file() {
            return Err(IndexError::Degraded { reason: format!("text index missing at {}", dir.display()) });
        }
        let index = Index::open_in_dir(dir).at(dir)?;
        let (expected, fields) = schema();
        if index.schema() != expected {
            return Err(IndexError::Degraded { reason: "text index has another schema".into() });
        }
        register_analyzer(&index, settings);
        // Every file the last commit lists must be there: a deletion interrupted half-way
        // or a user's cleanup must read as damage, not as an empty index. Checking names is
        // enough (status and search run this on every call; opening a reader costs more).
        let segments = index.searchable_segment_metas().at(dir)?;
        for segment in &segments {
            let mut components = vec![
                SegmentComponent::Postings,
                SegmentComponent::Positions,
                SegmentComponent::FastFields,
                SegmentComponent::FieldNorms,
                SegmentComponent::Terms,
                SegmentComponent::Store,
            ];
            if segment.has_deletes() {
                components.push(SegmentComponent::Delete);
            }
            for component in components {
                let file = dir.join(segment.relative_path(component));
                if !file.exists() {
                    return Err(IndexError::Degraded {
                        reason: format!("text index is damaged ({} is missing)", file.display()),
                    });
                }
            }
        }
        Ok(TextIndex { index, fields, dir: dir.to_path_buf() })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The catalog generation recorded with the last text commit.
    pub fn generation(&self) -> Result<u64> {
        let metas = self.index.load_metas().at(&self.dir)?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    pub fn writer(&self, bulk: bool) -> Result<TextWriter> {
        // Small updates use one thread and a small arena; bulk builds use both cores.
        // 64 MB in bulk: 96 MB was a few percent faster but kept a 100k-note build above 300 MB.
        let (threads, heap) = if bulk { (2, 64_000_000) } else { (1, 24_000_000) };
        let writer: IndexWriter = self.index.writer_with_num_threads(threads, heap).at(&self.dir)?;
        // A writer killed mid-commit leaves files no commit references; the next writer
        // would collide with them by name, so clear them before writing anything.
        writer.garbage_collect_files().wait().at(&self.dir)?;
        Ok(TextWriter { writer, fields: self.fields, dir: self.dir.clone() })
    }
}

/// The text of a note as the text index sees it.
pub struct TextDoc<'a> {
    pub path: &'a str,
    pub title: &'a str,
    pub aliases: &'a [String],
    pub headings: Vec<&'a str>,
    pub tags: Vec<&'a str>,
    pub body: &'a str,
}

pub struct TextWriter {
    writer: IndexWriter,
    fields: TextFields,
    dir: PathBuf,
}

impl TextWriter {
    pub fn delete(&mut self, path: &str) {
        self.writer.delete_term(Term::from_field_text(self.fields.path, path));
    }

    pub fn add(&mut self, doc: &TextDoc) -> Result<()> {
        let f = self.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.path, doc.path);
        d.add_text(f.title, doc.title);
        for alias in doc.aliases {
            d.add_text(f.aliases, alias);
        }
        d.add_text(f.headings, doc.headings.join("\n"));
        d.add_text(f.tags, doc.tags.join(" "));
        // The body field is the note's whole text, title and aliases included: one field
        // carries the ranking (a title word is a word of the note), and the boosted title
        // and alias fields only tip navigational queries (SciFact: title boosts on separate
        // fields alone cost 0.08 nDCG@10).
        d.add_text(f.body, doc.title);
        for alias in doc.aliases {
            d.add_text(f.body, alias);
        }
        d.add_text(f.body, doc.body);
        d.add_text(f.path_words, doc.path);
        self.writer.add_document(d).at(&self.dir)?;
        Ok(())
    }

    /// Commits with the catalog generation as payload, then lets merges finish so no
    /// half-merged files outlive this process.
    pub fn commit(mut self, generation: u64) -> Result<()> {
        let mut prepared = self.writer.prepare_commit().at(&self.dir)?;
        prepared.set_payload(&generation.to_string());
        prepared.commit().at(&self.dir)?;
        self.writer.wait_merging_threads().at(&self.dir)?;
        Ok(())
    }
}
