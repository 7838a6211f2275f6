//! `exo check`: the `[check]` policy of `exo.toml` evaluated over parsed notes. Pure: the
//! caller reads the notes (the working tree, or the staged blobs for the pre-commit hook) and
//! says which of them to report on; the whole set is the vault the links resolve in and the
//! titles must be unique across.
//!
//! Rules, each reported on one line `path:line: rule: message`: `invalid-frontmatter` (the
//! other frontmatter rules are then skipped for the note), `required`, `value-type`,
//! `allowed-value`, `summary-length`, `unresolved-link`, `duplicate-title`.

use std::collections::HashMap;

use exo_vault::note::{Link, Note, WarningKind};
use exo_vault::policy::{CheckPolicy, FieldRule, ValueType};
use exo_vault::resolve::fold;
use exo_vault::{LinkResolver, Resolution, TitleSource};
use serde::Serialize;
use serde_json::Value;

/// One note as read, with the text its spans index into.
#[derive(Debug, Clone)]
pub struct CheckedNote {
    pub path: String,
    pub note: Note,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    InvalidFrontmatter,
    Required,
    ValueType,
    AllowedValue,
    SummaryLength,
    UnresolvedLink,
    DuplicateTitle,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::InvalidFrontmatter => "invalid-frontmatter",
            Rule::Required => "required",
            Rule::ValueType => "value-type",
            Rule::AllowedValue => "allowed-value",
            Rule::SummaryLength => "summary-length",
            Rule::UnresolvedLink => "unresolved-link",
            Rule::DuplicateTitle => "duplicate-title",
        }
    }
}

/// A note breaking a rule, where, and what would fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Violation {
    /// Vault-relative path of the note.
    pub path: String,
    /// 1-based line the rule points at (the key's line; line 1 for a missing key).
    pub line: u32,
    pub rule: Rule,
    pub message: String,
}

/// Every violation of `policy` in the notes `report_on` accepts, sorted by path and line.
/// `notes` is the whole vault (links resolve and titles collide across it); `attachments` are
/// the other files links may name.
pub fn check_notes(
    policy: &CheckPolicy,
    notes: &[CheckedNote],
    attachments: &[String],
    report_on: &dyn Fn(&str) -> bool,
) -> Vec<Violation> {
    let resolver = policy.links_resolve.then(|| {
        let names = notes.iter().map(|n| (n.path.clone(), n.note.aliases.clone()));
        LinkResolver::new(names, attachments.iter().cloned())
    });
    let names = policy.unique_titles.then(|| NameOwners::new(notes));
    let mut violations = Vec::new();
    for checked in notes.iter().filter(|n| report_on(&n.path)) {
        let mut found = Found { path: &checked.path, violations: &mut violations };
        frontmatter_rules(policy, checked, &mut found);
        if let Some(resolver) = &resolver {
            link_rules(resolver, checked, &mut found);
        }
        if let Some(names) = &names {
            names.report(checked, &mut found);
        }
    }
    violations.sort_by(|a, b| (&a.path, a.line, a.rule).cmp(&(&b.path, b.line, b.rule)));
    violations
}

struct Found<'a> {
    path: &'a str,
    violations: &'a mut Vec<Violation>,
}

impl Found<'_> {
    fn push(&mut self, line: u32, rule: Rule, message: String) {
        self.violations.push(Violation { path: self.path.to_string(), line, rule, message });
    }
}

fn frontmatter_rules(policy: &CheckPolicy, checked: &CheckedNote, found: &mut Found) {
    let note = &checked.note;
    let invalid = note
        .warnings
        .iter()
        .find(|w| matches!(w.kind, WarningKind::InvalidFrontmatter | WarningKind::UnclosedFrontmatter));
    if let Some(warning) = invalid {
        found.push(1, Rule::InvalidFrontmatter, warning.message.clone());
        return;
    }
    let empty = serde_json::Map::new();
    let fields = note.frontmatter.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    let note_type = note.note_type.as_deref();
    let of_type = note_type.map(|t| format!(" (type: {t})")).unwrap_or_default();
    for key in policy.required_keys(note_type) {
        if fields.get(key).is_none_or(is_empty) {
            let line = key_line(checked, key).unwrap_or(1);
            found.push(
                line,
                Rule::Required,
                format!("missing required key `{key}`{of_type}; add `{key}:` to the frontmatter"),
            );
        }
    }
    for key in policy.ruled_keys(note_type) {
        let (Some(rule), Some(value)) = (policy.field_rule(note_type, key), fields.get(key)) else { continue };
        if is_empty(value) {
            continue;
        }
        let line = key_line(checked, key).unwrap_or(1);
        field_rules(key, rule, value, line, found);
    }
    if let (Some(max), Some(summary)) = (policy.max_summary, note.summary.as_deref()) {
        let chars = summary.chars().count();
        if chars > max {
            let line = key_line(checked, "summary").unwrap_or(1);
            found.push(
                line,
                Rule::SummaryLength,
                format!("summary is {chars} characters; at most {max} allowed, shorten it"),
            );
        }
    }
}

fn field_rules(key: &str, rule: &FieldRule, value: &Value, line: u32, found: &mut Found) {
    if let Some(wanted) = rule.value_type
        && !has_type(value, wanted)
    {
        let message = format!("`{key}` must be a {}, found {}", describe_type(wanted), show(value));
        found.push(line, Rule::ValueType, message);
        return;
    }
    if rule.values.is_empty() {
        return;
    }
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for item in items {
        let text = scalar_text(item);
        if !text.as_ref().is_some_and(|t| rule.values.iter().any(|v| v == t)) {
            let message = format!("`{key}` is {}; allowed: {}", show(item), rule.values.join(", "));
            found.push(line, Rule::AllowedValue, message);
        }
    }
}

fn link_rules(resolver: &LinkResolver, checked: &CheckedNote, found: &mut Found) {
    for link in checked.note.links.iter().filter(|l| !l.is_self_link()) {
        if resolver.resolve(&checked.path, link) == Resolution::Unresolved {
            let written = written(checked, link);
            found.push(
                link.line,
                Rule::UnresolvedLink,
                format!("{written} names no note or file in the vault; create it or fix the link"),
            );
        }
    }
}

/// The link as it appears in the note, on one line.
fn written(checked: &CheckedNote, link: &Link) -> String {
    let text = checked.text.get(link.span.start..link.span.end).unwrap_or(&link.target);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which notes own each folded title and alias.
struct NameOwners<'a> {
    owners: HashMap<String, Vec<&'a str>>,
}

impl<'a> NameOwners<'a> {
    fn new(notes: &'a [CheckedNote]) -> NameOwners<'a> {
        let mut owners: HashMap<String, Vec<&'a str>> = HashMap::new();
        for checked in notes {
            let mut keys: Vec<String> = names(&checked.note).map(fold).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                owners.entry(key).or_default().push(&checked.path);
            }
        }
        NameOwners { owners }
    }

    fn report(&self, checked: &CheckedNote, found: &mut Found) {
        let mut seen: Vec<String> = Vec::new();
        for name in names(&checked.note) {
            let key = fold(name);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key.clone());
            let others: Vec<&str> =
                self.owners.get(&key).into_iter().flatten().copied().filter(|p| *p != checked.path).collect();
            if others.is_empty() {
                continue;
            }
            let is_title = fold(&checked.note.title) == key;
            let line = if is_title { title_line(checked) } else { key_line(checked, "aliases").unwrap_or(1) };
            let what = if is_title { "title" } else { "alias" };
            found.push(
                line,
                Rule::DuplicateTitle,
                format!(
                    "{what} {name:?} is also the title or an alias of {}; rename one so links to it are not ambiguous",
                    others.join(", ")
                ),
            );
        }
    }
}

fn names(note: &Note) -> impl Iterator<Item = &str> {
    std::iter::once(note.title.as_str()).chain(note.aliases.iter().map(String::as_str)).filter(|n| !n.trim().is_empty())
}

fn title_line(checked: &CheckedNote) -> u32 {
    match checked.note.title_source {
        TitleSource::Frontmatter => key_line(checked, "title").unwrap_or(1),
        TitleSource::Heading => checked.note.headings.iter().find(|h| h.level == 1).map_or(1, |h| h.line),
        TitleSource::FileName => 1,
    }
}

/// The 1-based line of `key:` at the top level of the note's frontmatter.
fn key_line(checked: &CheckedNote, key: &str) -> Option<u32> {
    let span = checked.note.frontmatter_span?;
    let block = checked.text.get(..span.end)?;
    let starts_key = |line: &str| {
        let unquoted = line.strip_prefix(['"', '\'']).unwrap_or(line);
        unquoted
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).trim_start().starts_with(':'))
    };
    // A byte order mark before the opening `---` is not part of it (the parser skips it too).
    let is_fence = |line: &str| line.trim_start_matches('\u{feff}').trim_end() == "---";
    let line_index =
        block.lines().enumerate().skip_while(|(_, l)| !is_fence(l)).skip(1).find(|(_, l)| starts_key(l))?.0;
    u32::try_from(line_index + 1).ok()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn has_type(value: &Value, wanted: ValueType) -> bool {
    match wanted {
        ValueType::String => value.is_string(),
        ValueType::Number => value.is_number(),
        ValueType::Boolean => value.is_boolean(),
        ValueType::List => value.is_array(),
        ValueType::Date => value.as_str().is_some_and(is_date),
    }
}

fn describe_type(value_type: ValueType) -> &'static str {
    match value_type {
        ValueType::Date => "date (YYYY-MM-DD)",
        ValueType::List => "list",
        ValueType::String => "string",
        ValueType::Number => "number",
        ValueType::Boolean => "boolean (true or false)",
    }
}

/// `YYYY-MM-DD` naming a real day, alone or followed by a time (`T…` or ` …`).
fn is_date(text: &str) -> bool {
    let text = text.trim();
    let Some((day, rest)) = text.split_at_checked(text.len().min(10)) else { return false };
    if !(rest.is_empty() || rest.starts_with(['T', 't', ' '])) {
        return false;
    }
    let bytes = day.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = day.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(dom)) = (digits(0..4), digits(5..7), digits(8..10)) else { return false };
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&dom)
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A value as the message shows it: its kind and a short form of it.
fn show(value: &Value) -> String {
    let kind = match value {
        Value::Null => "nothing",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    };
    let mut text = value.to_string();
    if text.chars().count() > 60 {
        text = text.chars().take(57).collect::<String>() + "...";
    }
    format!("{kind} {text}")
}

#[cfg(test)]
mod tests {
    use exo_vault::{Config, ParseOptions, parse_note};

    use super::*;

    fn checked(path: &str, text: &str) -> CheckedNote {
        CheckedNote {
            path: path.to_string(),
            note: parse_note(path, text, &ParseOptions::default()),
            text: text.to_string(),
        }
    }

    fn policy(toml: &str) -> CheckPolicy {
        Config::parse(toml).unwrap().check.unwrap()
    }

    fn lines(violations: &[Violation]) -> Vec<String> {
        violations.iter().map(|v| format!("{}:{}: {}", v.path, v.line, v.rule.name())).collect()
    }

    #[test]
    fn frontmatter_rules_name_the_key_line() {
        let policy = policy(
            "[check]\nrequired = [\"title\"]\nmax_summary = 5\n[check.fields]\ncreated = { type = \"date\" }\n\
             status = { values = [\"draft\", \"done\"] }\ntags = { type = \"list\", values = [\"a\", \"b\"] }\n\
             [check.types.paper]\nrequired = [\"year\"]\nfields = { year = { type = \"number\" } }\n",
        );
        let notes = [
            checked("ok.md", "---\ntitle: Ok\ncreated: 2024-02-29\nstatus: done\ntags: [a]\n---\nbody\n"),
            checked(
                "bad.md",
                "---\ntype: paper\ncreated: 2023-02-29\nstatus: wip\ntags: [a, c]\nsummary: too long\nyear: \"2020\"\n---\n",
            ),
            checked("broken.md", "---\ntitle: [unclosed\n---\n"),
            checked("empty.md", "---\nstatus: done\ntitle:\n---\n"),
        ];
        let violations = check_notes(&policy, &notes, &[], &|_| true);
        assert_eq!(
            lines(&violations),
            [
                "bad.md:1: required",
                "bad.md:3: value-type",
                "bad.md:4: allowed-value",
                "bad.md:5: allowed-value",
                "bad.md:6: summary-length",
                "bad.md:7: value-type",
                "broken.md:1: invalid-frontmatter",
                "empty.md:3: required",
            ]
        );
        assert!(violations[0].message.contains("`title` (type: paper)"), "{}", violations[0].message);
        assert!(violations[3].message.contains("string \"c\""), "{}", violations[3].message);
    }

    #[test]
    fn links_must_resolve_and_names_be_unique() {
        let policy = policy("[check]\nlinks_resolve = true\nunique_titles = true\n");
        let notes = [
            checked("a.md", "# Alpha\n\n[[b]] [[missing]] ![[pic.png]] [x](nowhere.md) [[#self]]\n`[[in code]]`\n"),
            checked("b.md", "---\naliases: [alpha]\n---\n# Bee\n"),
            checked("c.md", "# Sea\n"),
        ];
        let violations = check_notes(&policy, &notes, &["pic.png".to_string()], &|p| p != "c.md");
        assert_eq!(
            lines(&violations),
            [
                "a.md:1: duplicate-title",
                "a.md:3: unresolved-link",
                "a.md:3: unresolved-link",
                "b.md:2: duplicate-title"
            ]
        );
        assert!(violations[1].message.starts_with("[[missing]] names no note"), "{}", violations[1].message);
        assert!(violations[0].message.contains("b.md"));
    }

    #[test]
    fn an_empty_policy_reports_only_unreadable_frontmatter() {
        let notes = [checked("a.md", "---\nx: [\n---\n[[missing]]\n"), checked("b.md", "# B\n[[missing]]\n")];
        let violations = check_notes(&CheckPolicy::default(), &notes, &[], &|_| true);
        assert_eq!(lines(&violations), ["a.md:1: invalid-frontmatter"]);
    }

    #[test]
    fn lines_are_right_with_a_byte_order_mark_and_crlf() {
        let policy = policy("[check]\n[check.fields]\ncreated = { type = \"date\" }\n");
        let notes = [
            checked("bom.md", "\u{feff}---\ntitle: T\ncreated: someday\n---\n"),
            checked("crlf.md", "---\r\ntitle: T\r\ncreated: someday\r\n---\r\n"),
            checked("both.md", "\u{feff}---\r\ntitle: T\r\ncreated: someday\r\n---\r\n"),
        ];
        let violations = check_notes(&policy, &notes, &[], &|_| true);
        assert_eq!(lines(&violations), ["bom.md:3: value-type", "both.md:3: value-type", "crlf.md:3: value-type"]);
    }

    #[test]
    fn dates() {
        for good in ["2024-02-29", "2023-12-31", "2023-01-01T10:00", "2023-01-01 10:00"] {
            assert!(is_date(good), "{good}");
        }
        for bad in ["2023-02-29", "2023-13-01", "2023-1-01", "yesterday", "2023-01-01x", "２０２３-01-01"] {
            assert!(!is_date(bad), "{bad}");
        }
    }
}
