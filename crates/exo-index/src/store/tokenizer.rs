//! Word tokenizer that also finds Chinese, Japanese and Korean text: alphanumeric runs are
//! words, and runs of CJK characters (written without spaces) become overlapping character
//! bigrams, the standard trick that lets BM25 match CJK without a dictionary.

use std::collections::HashMap;
use std::iter::Peekable;
use std::str::CharIndices;

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

#[derive(Clone, Default)]
pub struct WordAndCjkTokenizer {
    token: Token,
}

pub struct WordAndCjkStream<'a> {
    text: &'a str,
    chars: Peekable<CharIndices<'a>>,
    token: &'a mut Token,
    /// The current CJK character was already emitted as the second half of a bigram.
    covered: bool,
}

impl Tokenizer for WordAndCjkTokenizer {
    type TokenStream<'a> = WordAndCjkStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordAndCjkStream<'a> {
        self.token.reset();
        WordAndCjkStream { text, chars: text.char_indices().peekable(), token: &mut self.token, covered: false }
    }
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x1100..=0x11FF    // Hangul Jamo
        | 0x3130..=0x318F    // Hangul Compatibility Jamo
        | 0xAC00..=0xD7AF    // Hangul Syllables
        | 0x20000..=0x2A6DF) // CJK Extension B
}

impl WordAndCjkStream<'_> {
    fn emit(&mut self, from: usize, to: usize) -> bool {
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.text.push_str(&self.text[from..to]);
        true
    }
}

impl TokenStream for WordAndCjkStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while let Some((start, c)) = self.chars.next() {
            if is_cjk(c) {
                let next = self.chars.peek().copied().filter(|&(_, d)| is_cjk(d));
                let was_covered = std::mem::replace(&mut self.covered, next.is_some());
                match next {
                    Some((at, d)) => return self.emit(start, at + d.len_utf8()),
                    None if was_covered => continue,
                    None => return self.emit(start, start + c.len_utf8()),
                }
            }
            self.covered = false;
            if c.is_alphanumeric() {
                let mut end = start + c.len_utf8();
                while let Some(&(at, d)) = self.chars.peek() {
                    if !d.is_alphanumeric() || is_cjk(d) {
                        break;
                    }
                    end = at + d.len_utf8();
                    self.chars.next();
                }
                return self.emit(start, end);
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems<F: TokenFilter>(filter: F, texts: &[&str]) -> Vec<String> {
        let mut analyzer =
            tantivy::tokenizer::TextAnalyzer::builder(WordAndCjkTokenizer::default()).filter(filter).build();
        let mut out = Vec::new();
        for text in texts {
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                out.push(stream.token().text.clone());
            }
        }
        out
    }

    #[test]
    fn cached_stems_are_the_snowball_stems() {
        let texts = ["connections running runs", "running connections again", "fruitlessly running"];
        use frostem::Algorithm;
        use tantivy::tokenizer::Language;
        for (language, algorithm) in [
            (Language::English, Algorithm::English),
            (Language::French, Algorithm::French),
            (Language::German, Algorithm::German),
        ] {
            let plain = stems(tantivy::tokenizer::Stemmer::new(language), &texts);
            assert_eq!(stems(CachedStemmer::new(algorithm), &texts), plain, "{language:?}");
        }
        assert_eq!(stems(CachedStemmer::new(Algorithm::English), &texts[..1]), ["connect", "run", "run"]);
    }

    fn tokens(text: &str) -> Vec<String> {
        let mut tokenizer = WordAndCjkTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn words_and_bigrams() {
        assert_eq!(tokens("Hello, tax-payer 42!"), vec!["Hello", "tax", "payer", "42"]);
        assert_eq!(tokens("知识管理"), vec!["知识", "识管", "管理"]);
        assert_eq!(tokens("猫 is 可爱"), vec!["猫", "is", "可爱"]);
        assert_eq!(tokens("rust語"), vec!["rust", "語"]);
        assert_eq!(tokens("ノート를"), vec!["ノー", "ート", "ト를"]);
        assert_eq!(tokens("한국어 검색"), vec!["한국", "국어", "검색"]);
        assert!(tokens("").is_empty());
    }
}

/// tantivy's Snowball stemming with a cache of the stems already computed. Natural text
/// repeats a small vocabulary, and the Snowball algorithm costs far more than a hash probe:
/// stemming was a fifth of a full build's CPU. Each tokenizer instance (one per field per
/// indexing thread) keeps its own cache, bounded in size; the stems are the algorithm's
/// own, so indexing and querying still agree.
#[derive(Clone)]
pub struct CachedStemmer {
    algorithm: frostem::Algorithm,
}

/// Distinct words remembered per tokenizer instance (one per field per indexing thread):
/// the common words of any vault, and by estimate (two short strings a word) under 2 MB.
const STEM_CACHE_WORDS: usize = 20_000;

impl CachedStemmer {
    pub fn new(algorithm: frostem::Algorithm) -> CachedStemmer {
        CachedStemmer { algorithm }
    }
}

impl TokenFilter for CachedStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter { algorithm: self.algorithm, inner: tokenizer, cache: StemCache::default() }
    }
}

type StemCache = HashMap<String, String, foldhash::fast::RandomState>;

#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    algorithm: frostem::Algorithm,
    inner: T,
    cache: StemCache,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            stemmer: frostem::Stemmer::new(self.algorithm),
            cache: &mut self.cache,
        }
    }
}

pub struct CachedStemmerStream<'a, T> {
    tail: T,
    stemmer: frostem::Stemmer,
    cache: &'a mut StemCache,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.cache.get(token.text.as_str()) {
            token.text.clear();
            token.text.push_str(stem);
            return true;
        }
        let stem = self.stemmer.stem(&token.text).into_owned();
        if self.cache.len() < STEM_CACHE_WORDS {
            self.cache.insert(std::mem::replace(&mut token.text, stem.clone()), stem);
        } else {
            token.text = stem;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}
