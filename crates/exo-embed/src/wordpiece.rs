//! BERT's uncased WordPiece tokenizer, as all-MiniLM-L6-v2 was trained with: clean the text,
//! put spaces around CJK ideographs, lower-case, strip accents, split on whitespace and
//! punctuation, then greedy longest-match word pieces with `##` continuations.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

pub const CLS: u32 = 101;
pub const SEP: u32 = 102;
pub const UNK: u32 = 100;
/// Longer words become [UNK], as in BERT.
const MAX_WORD_CHARS: usize = 100;

/// Borrows its tokens from the vocabulary text (compiled into the binary), with foldhash:
/// owned strings under SipHash took 10 ms of every search's model load.
pub struct WordPiece<'v> {
    vocab: HashMap<&'v str, u32, foldhash::fast::FixedState>,
}

impl<'v> WordPiece<'v> {
    /// `vocab` is one token per line, line N holding id N.
    pub fn from_vocab(vocab: &'v str) -> WordPiece<'v> {
        let vocab = vocab.lines().enumerate().map(|(id, token)| (token, id as u32)).collect();
        WordPiece { vocab }
    }

    /// Token ids with [CLS] and [SEP], at most `max_len` in all.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let budget = max_len.saturating_sub(2);
        let mut ids = Vec::with_capacity(budget.min(64) + 2);
        ids.push(CLS);
        'words: for word in basic_tokens(text) {
            for id in self.pieces(&word) {
                if ids.len() > budget {
                    break 'words;
                }
                ids.push(id);
            }
        }
        ids.push(SEP);
        ids
    }

    fn pieces(&self, word: &str) -> Vec<u32> {
        if word.chars().count() > MAX_WORD_CHARS {
            return vec![UNK];
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + 2);
        while start < word.len() {
            let mut end = word.len();
            let mut found = None;
            while end > start {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(candidate.as_str()) {
                    found = Some(id);
                    break;
                }
                end = word[..end].char_indices().next_back().map_or(start, |(i, _)| i);
            }
            match found {
                Some(id) => {
                    pieces.push(id);
                    start = end;
                }
                None => return vec![UNK],
            }
        }
        pieces
    }
}

/// Words and punctuation marks after BERT's basic tokenisation (uncased).
fn basic_tokens(text: &str) -> Vec<String> {
    let mut spaced = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c == '\0' || c == '\u{fffd}' || is_control(c) {
            continue;
        }
        if is_cjk(c) {
            spaced.push(' ');
            spaced.push(c);
            spaced.push(' ');
        } else if c.is_whitespace() {
            spaced.push(' ');
        } else {
            spaced.push(c);
        }
    }
    let mut tokens = Vec::new();
    for word in spaced.split(' ').filter(|w| !w.is_empty()) {
        let folded: String = word.to_lowercase().nfd().filter(|c| !is_combining_mark(*c)).collect();
        split_punctuation(&folded, &mut tokens);
    }
    tokens
}

fn split_punctuation(word: &str, out: &mut Vec<String>) {
    let mut current = String::new();
    for c in word.chars() {
        if is_punctuation(c) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
}

fn is_control(c: char) -> bool {
    if matches!(c, '\t' | '\n' | '\r') {
        return false;
    }
    c.is_control()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// The CJK Unified Ideograph blocks BERT splits into single characters.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// ASCII symbols count as punctuation for BERT; elsewhere, the Unicode punctuation blocks.
fn is_punctuation(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation();
    }
    matches!(c as u32,
        0xA1 | 0xA7 | 0xAB | 0xB6 | 0xB7 | 0xBB | 0xBF | 0x37E | 0x387
        | 0x55A..=0x55F | 0x589 | 0x58A | 0x5BE | 0x5C0 | 0x5C3 | 0x5C6 | 0x5F3 | 0x5F4
        | 0x609 | 0x60A | 0x60C | 0x60D | 0x61B | 0x61E | 0x61F | 0x66A..=0x66D | 0x6D4
        | 0x964 | 0x965 | 0x970 | 0xE4F | 0xE5A | 0xE5B
        | 0x2010..=0x2027 | 0x2030..=0x2043 | 0x2045..=0x2051 | 0x2053..=0x205E
        | 0x207D | 0x207E | 0x208D | 0x208E | 0x2308..=0x230B | 0x2329 | 0x232A
        | 0x2768..=0x2775 | 0x27C5 | 0x27C6 | 0x27E6..=0x27EF | 0x2983..=0x2998
        | 0x29D8..=0x29DB | 0x29FC | 0x29FD | 0x2CF9..=0x2CFC | 0x2CFE | 0x2CFF
        | 0x2E00..=0x2E2E | 0x2E30..=0x2E4F
        | 0x3001..=0x3003 | 0x3008..=0x3011 | 0x3014..=0x301F | 0x3030 | 0x303D | 0x30A0 | 0x30FB
        | 0xFE10..=0xFE19 | 0xFE30..=0xFE52 | 0xFE54..=0xFE61 | 0xFE63 | 0xFE68 | 0xFE6A | 0xFE6B
        | 0xFF01..=0xFF03 | 0xFF05..=0xFF0A | 0xFF0C..=0xFF0F | 0xFF1A | 0xFF1B | 0xFF1F | 0xFF20
        | 0xFF3B..=0xFF3D | 0xFF3F | 0xFF5B | 0xFF5D | 0xFF5F..=0xFF65)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_vocab() -> String {
        let mut vocab = vec!["[PAD]".to_string()];
        vocab.resize(100, "[unused]".into());
        vocab.extend(["[UNK]", "[CLS]", "[SEP]"].map(String::from));
        vocab.extend(["un", "##aff", "##able", "cafe", ",", "知", "识", "hello"].map(String::from));
        vocab.join("\n")
    }

    #[test]
    fn greedy_longest_match_with_continuations() {
        let vocab = tiny_vocab();
        let wp = WordPiece::from_vocab(&vocab);
        assert_eq!(wp.encode("unaffable", 256), [CLS, 103, 104, 105, SEP]);
        assert_eq!(wp.encode("unknownword", 256), [CLS, UNK, SEP]);
    }

    #[test]
    fn accents_case_punctuation_and_cjk() {
        let vocab = tiny_vocab();
        let wp = WordPiece::from_vocab(&vocab);
        assert_eq!(wp.encode("CAFÉ,Hello", 256), [CLS, 106, 107, 110, SEP]);
        assert_eq!(wp.encode("知识", 256), [CLS, 108, 109, SEP]);
    }

    #[test]
    fn truncates_to_the_budget() {
        let vocab = tiny_vocab();
        let wp = WordPiece::from_vocab(&vocab);
        let ids = wp.encode(&"hello ".repeat(300), 8);
        assert_eq!(ids.len(), 8);
        assert_eq!((ids[0], ids[7]), (CLS, SEP));
    }
}
