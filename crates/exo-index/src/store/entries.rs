//! What the catalog knows of every path (stat record, content hash, flags), packed into
//! one buffer sorted by path, and its copy in `.exo/entries` for the checks that run beside
//! every search and status.
//!
//! Packed because these are read on every check: at 100k notes a map of owned strings cost
//! 200k allocations, and reading the rows back through SQLite was a fifth of a search's CPU
//! (closing the connection after filling its page cache another twentieth). The copy on
//! disk is the same bytes, so loading it allocates nothing per entry.
//!
//! Like the flat vectors, the copy names the catalog state it came from (`indexed_at`,
//! which every run that changes an entry writes, unique across rebuilds). The writer deletes
//! it before it marks any path pending and writes it again after its commit, so a reader
//! that finds the stamp current is reading exactly what the catalog holds. Anything else
//! (no copy, another stamp, a torn or foreign file, pending paths) and readers go to the
//! catalog. The writer reads the copy by the same rule, under its lock (so nothing can change
//! the catalog between the check and the use), and after a small run writes the copy from
//! the entries it read with the changed paths patched in (`Entries::patched`), not from
//! every row read back: both were a tenth of a one-note run at 100k notes.

const MAGIC: &[u8; 8] = b"EXOENTS2";
/// Magic, stamp, entry count, skip limit.
pub(crate) const HEADER: usize = 28;

const RACY: u8 = 1;
const SKIPPED: u8 = 2;
const HASHED: u8 = 4;
const PENDING: u8 = 8;

/// Bytes before the path in a record: flags, size, mtime, identity, path length.
const FIXED: usize = 1 + 8 + 8 + 8 + 4;

/// What the catalog knows of one path, for comparing against the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The stored content hash; None for a skipped file or a path only pending.
    pub hash: Option<&'a str>,
    pub size: i64,
    pub mtime_ns: i64,
    /// Device, inode and change time, fingerprinted (`exo_vault::scan::identity`).
    pub identity: i64,
    pub racy: bool,
    pub skipped: bool,
    pub pending: bool,
}

/// Every path the catalog knows, sorted by path. Each record is laid out as flags (u8),
/// size, mtime and identity (i64), path length (u32), path, hash length (u8), hash.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    bytes: Vec<u8>,
    /// Where each record starts in `bytes`, in path order.
    records: Vec<usize>,
    /// The `max_file_size` the skipped entries were judged under (None: unknown).
    pub skip_limit: Option<u64>,
}

impl Entries {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn get(&self, path: &str) -> Option<Entry<'_>> {
        let i = self.find(path).ok()?;
        Some(self.entry_at(self.records[i]))
    }

    fn find(&self, path: &str) -> std::result::Result<usize, usize> {
        self.records.binary_search_by(|&at| path_of(&self.bytes, at).cmp(path.as_bytes()))
    }

    /// Every entry, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Entry<'_>)> {
        self.records.iter().map(|&at| (self.path_at(at), self.entry_at(at)))
    }

    /// These entries with each of `changed` (sorted by path, each path once) put in:
    /// replaced or added (Some) or removed (None). One pass, no SQLite: what lets a small
    /// run rewrite the `.exo/entries` copy without reading every row back.
    pub(crate) fn patched(&self, changed: &[(&str, Option<Entry<'_>>)], skip_limit: Option<u64>) -> Entries {
        let mut builder = EntriesBuilder::default();
        builder.entries.bytes.reserve(self.bytes.len());
        builder.entries.records.reserve(self.records.len() + changed.len());
        let mut changes = changed.iter().peekable();
        let put = |builder: &mut EntriesBuilder, (path, entry): &(&str, Option<Entry<'_>>)| {
            if let Some(entry) = entry {
                builder.push(path, *entry);
            }
        };
        // Compared and copied as bytes: decoding every record (two UTF-8 checks each) to
        // write it back unchanged was most of this pass at 100k entries.
        for (&at, end) in self.records.iter().zip(self.record_ends()) {
            let path = path_of(&self.bytes, at);
            while let Some(change) = changes.next_if(|(changed, _)| changed.as_bytes() < path) {
                put(&mut builder, change);
            }
            match changes.next_if(|(changed, _)| changed.as_bytes() == path) {
                Some(change) => put(&mut builder, change),
                None => builder.push_record(&self.bytes[at..end]),
            }
        }
        changes.for_each(|change| put(&mut builder, change));
        // Pushed in path order: the sort in `finish` finds one sorted run.
        builder.finish(skip_limit)
    }

    /// Where each record ends, in the order of `records`.
    fn record_ends(&self) -> impl Iterator<Item = usize> + '_ {
        self.records.iter().map(|&at| {
            let hash_at = at + FIXED + u32_at(&self.bytes, at + FIXED - 4) as usize;
            hash_at + 1 + self.bytes[hash_at] as usize
        })
    }

    /// Whether any path is marked pending (an intent recorded before a crash), by the flag
    /// bytes alone.
    pub(crate) fn any_pending(&self) -> bool {
        self.records.iter().any(|&at| self.bytes[at] & PENDING != 0)
    }

    fn path_at(&self, at: usize) -> &str {
        std::str::from_utf8(path_of(&self.bytes, at)).unwrap_or("")
    }

    fn entry_at(&self, at: usize) -> Entry<'_> {
        let flags = self.bytes[at];
        let path_len = u32_at(&self.bytes, at + FIXED - 4) as usize;
        let hash_at = at + FIXED + path_len;
        let hash_len = self.bytes[hash_at] as usize;
        let hash = std::str::from_utf8(&self.bytes[hash_at + 1..hash_at + 1 + hash_len]).unwrap_or("");
        Entry {
            hash: (flags & HASHED != 0).then_some(hash),
            size: i64_at(&self.bytes, at + 1),
            mtime_ns: i64_at(&self.bytes, at + 9),
            identity: i64_at(&self.bytes, at + 17),
            racy: flags & RACY != 0,
            skipped: flags & SKIPPED != 0,
            pending: flags & PENDING != 0,
        }
    }
}

/// Collects entries in any order; `finish` sorts them and folds pending marks in.
#[derive(Default)]
pub(crate) struct EntriesBuilder {
    entries: Entries,
    pending: Vec<String>,
}

impl EntriesBuilder {
    pub(crate) fn push(&mut self, path: &str, entry: Entry<'_>) {
        let bytes = &mut self.entries.bytes;
        self.entries.records.push(bytes.len());
        let hash = entry.hash.unwrap_or("");
        let hash = &hash.as_bytes()[..hash.len().min(255)];
        let flags =
            [(entry.racy, RACY), (entry.skipped, SKIPPED), (entry.hash.is_some(), HASHED), (entry.pending, PENDING)]
                .into_iter()
                .filter(|(set, _)| *set)
                .fold(0, |flags, (_, bit)| flags | bit);
        bytes.push(flags);
        bytes.extend_from_slice(&entry.size.to_le_bytes());
        bytes.extend_from_slice(&entry.mtime_ns.to_le_bytes());
        bytes.extend_from_slice(&entry.identity.to_le_bytes());
        bytes.extend_from_slice(&(path.len() as u32).to_le_bytes());
        bytes.extend_from_slice(path.as_bytes());
        bytes.push(hash.len() as u8);
        bytes.extend_from_slice(hash);
    }

    /// One record as another `Entries` holds it, copied unchanged.
    fn push_record(&mut self, record: &[u8]) {
        self.entries.records.push(self.entries.bytes.len());
        self.entries.bytes.extend_from_slice(record);
    }

    /// Marks `path` pending: an intent recorded before a crash. A path the catalog has no
    /// row for gets an entry of its own.
    pub(crate) fn pending(&mut self, path: String) {
        self.pending.push(path);
    }

    pub(crate) fn finish(mut self, skip_limit: Option<u64>) -> Entries {
        self.entries.skip_limit = skip_limit;
        self.sort();
        let mut unrecorded = Vec::new();
        for path in std::mem::take(&mut self.pending) {
            match self.entries.find(&path) {
                Ok(i) => {
                    let at = self.entries.records[i];
                    self.entries.bytes[at] |= PENDING;
                }
                Err(_) => unrecorded.push(path),
            }
        }
        if !unrecorded.is_empty() {
            for path in &unrecorded {
                let intent = Entry {
                    hash: None,
                    size: -1,
                    mtime_ns: -1,
                    identity: 0,
                    racy: false,
                    skipped: false,
                    pending: true,
                };
                self.push(path, intent);
            }
            self.sort();
        }
        self.entries
    }

    fn sort(&mut self) {
        let Entries { bytes, records, .. } = &mut self.entries;
        records.sort_by(|&a, &b| path_of(bytes, a).cmp(path_of(bytes, b)));
    }
}

fn path_of(bytes: &[u8], at: usize) -> &[u8] {
    let len = u32_at(bytes, at + FIXED - 4) as usize;
    &bytes[at + FIXED..at + FIXED + len]
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn i64_at(bytes: &[u8], at: usize) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    i64::from_le_bytes(word)
}

/// (stamp, entry count, skip limit) of a file this version wrote.
pub(crate) fn parse_header(bytes: &[u8]) -> Option<(i64, usize, Option<u64>)> {
    if bytes.get(..8)? != MAGIC {
        return None;
    }
    let stamp = i64::from_le_bytes(bytes.get(8..16)?.try_into().ok()?);
    let count = u32::from_le_bytes(bytes.get(16..20)?.try_into().ok()?);
    let skip_limit = u64::from_le_bytes(bytes.get(20..28)?.try_into().ok()?);
    Some((stamp, count as usize, (skip_limit != u64::MAX).then_some(skip_limit)))
}

pub(crate) fn encode(entries: &Entries, stamp: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + entries.bytes.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&stamp.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(&entries.skip_limit.unwrap_or(u64::MAX).to_le_bytes());
    for &at in &entries.records {
        let path_len = u32_at(&entries.bytes, at + FIXED - 4) as usize;
        let hash_len = entries.bytes[at + FIXED + path_len] as usize;
        out.extend_from_slice(&entries.bytes[at..at + FIXED + path_len + 1 + hash_len]);
    }
    out
}

/// The entries of a copy stamped `stamp`: the file's own bytes, checked record by record
/// (bounds, UTF-8, strictly ascending paths), so a torn or foreign file is None.
pub(crate) fn decode(bytes: Vec<u8>, stamp: i64) -> Option<Entries> {
    let (found, count, skip_limit) = parse_header(&bytes)?;
    if found != stamp {
        return None;
    }
    // The count is only a hint until every record is checked: a damaged one must not ask
    // for gigabytes up front.
    let mut records = Vec::with_capacity(count.min(bytes.len() / (FIXED + 1)));
    let mut at = HEADER;
    let mut previous: Option<&[u8]> = None;
    for _ in 0..count {
        let fixed = bytes.get(at..at.checked_add(FIXED)?)?;
        if fixed[0] & PENDING != 0 {
            return None;
        }
        let path_len = u32_at(fixed, FIXED - 4) as usize;
        let path = bytes.get(at + FIXED..(at + FIXED).checked_add(path_len)?)?;
        let hash_at = at + FIXED + path_len;
        let hash_len = *bytes.get(hash_at)? as usize;
        let hash = bytes.get(hash_at + 1..hash_at + 1 + hash_len)?;
        std::str::from_utf8(path).ok()?;
        std::str::from_utf8(hash).ok()?;
        if previous.is_some_and(|previous| previous >= path) {
            return None;
        }
        previous = Some(path);
        records.push(at);
        at = hash_at + 1 + hash_len;
    }
    (at == bytes.len()).then_some(Entries { bytes, records, skip_limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(hash: Option<&str>, racy: bool, skipped: bool) -> Entry<'_> {
        Entry { hash, size: 12, mtime_ns: -3, identity: 77, racy, skipped, pending: false }
    }

    fn sample() -> Entries {
        let mut builder = EntriesBuilder::default();
        builder.push("émoji 🚀.md", entry(Some("ff"), true, false));
        builder.push("a/b.md", entry(Some("ab12"), false, false));
        builder.push("big.md", entry(None, false, true));
        builder.finish(Some(1000))
    }

    fn listed(entries: &Entries) -> Vec<(String, Entry<'_>)> {
        entries.iter().map(|(path, entry)| (path.to_string(), entry)).collect()
    }

    #[test]
    fn entries_are_sorted_and_found_by_path() {
        let entries = sample();
        let paths: Vec<String> = listed(&entries).into_iter().map(|(path, _)| path).collect();
        assert_eq!(paths, ["a/b.md", "big.md", "émoji 🚀.md"]);
        assert_eq!(entries.get("émoji 🚀.md"), Some(entry(Some("ff"), true, false)));
        assert_eq!(entries.get("big.md"), Some(entry(None, false, true)));
        assert_eq!(entries.get("a/c.md"), None);
    }

    #[test]
    fn pending_marks_an_entry_or_adds_one() {
        let mut builder = EntriesBuilder::default();
        builder.push("b.md", entry(Some("00"), false, false));
        builder.pending("b.md".into());
        builder.pending("a.md".into());
        let entries = builder.finish(None);
        assert_eq!(entries.get("b.md").map(|e| (e.pending, e.hash)), Some((true, Some("00"))));
        assert_eq!(entries.get("a.md").map(|e| (e.pending, e.hash, e.size)), Some((true, None, -1)));
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn patching_replaces_adds_and_removes_in_path_order() {
        let changed = [
            ("a/a.md", Some(entry(Some("01"), false, false))),
            ("a/b.md", None),
            ("big.md", Some(entry(Some("beef"), true, false))),
            ("zz.md", Some(entry(None, false, true))),
        ];
        let patched = sample().patched(&changed, Some(7));
        let mut expected = EntriesBuilder::default();
        expected.push("a/a.md", entry(Some("01"), false, false));
        expected.push("big.md", entry(Some("beef"), true, false));
        expected.push("émoji 🚀.md", entry(Some("ff"), true, false));
        expected.push("zz.md", entry(None, false, true));
        let expected = expected.finish(Some(7));
        assert_eq!(listed(&patched), listed(&expected));
        assert_eq!(patched.skip_limit, Some(7));
        assert_eq!(encode(&patched, 1), encode(&expected, 1));
    }

    #[test]
    fn the_copy_round_trips_under_its_stamp_only() {
        let bytes = encode(&sample(), 42);
        let decoded = decode(bytes.clone(), 42).unwrap_or_default();
        assert_eq!(listed(&decoded), listed(&sample()));
        assert_eq!(decoded.skip_limit, Some(1000));
        assert!(decode(bytes, 43).is_none());
    }

    #[test]
    fn torn_unsorted_or_foreign_copies_are_refused() {
        let bytes = encode(&sample(), 7);
        for cut in [0, 5, HEADER, HEADER + 3, bytes.len() - 1] {
            assert!(decode(bytes[..cut].to_vec(), 7).is_none(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(longer, 7).is_none());
        let mut foreign = bytes.clone();
        foreign[0] = b'X';
        assert!(decode(foreign, 7).is_none());
        let mut unsorted = EntriesBuilder::default();
        unsorted.push("b.md", entry(None, false, true));
        unsorted.push("a.md", entry(None, false, true));
        let unsorted = unsorted.entries;
        assert!(decode(encode(&unsorted, 7), 7).is_none());
    }
}
