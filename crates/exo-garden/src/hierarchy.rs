//! What a note's path says about where it stands among the others: above or below another
//! in the vault's hierarchy (folders, or Dendron's dotted names), or one entry of a series
//! (names that differ only in a date, a number or a letter). Both are ways a vault already
//! connects notes, or makes them alike, without a link: the guessing detectors weigh them.

/// `ancestor` is above `descendant` in the hierarchy: the descendant sits in the folder
/// named by the ancestor's stem (`a.md`, `a/b/c.md`) or extends its dotted name (`a.md`,
/// `a.b.c.md`). The hierarchy (a tree view, breadcrumbs, a children list) already leads from
/// one to the other.
pub(crate) fn is_ancestor(ancestor: &str, descendant: &str) -> bool {
    let stem = ancestor.strip_suffix(".md").unwrap_or(ancestor);
    descendant.strip_prefix(stem).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('.') && rest != ".md")
}

/// One of the two is above the other in the hierarchy.
pub(crate) fn parent_and_child(a: &str, b: &str) -> bool {
    is_ancestor(a, b) || is_ancestor(b, a)
}

/// The two notes are entries of one series: their paths are the same once every run of
/// digits, every month's name and every single letter standing alone is set aside
/// (`reading-series.2022.03.01` and `reading-series.2022.10.11`, `summary-of-reading-january-
/// march-2020` and `summary-of-reading-october-december-2020`, `Monsters J` and `Monsters Y`,
/// `0-4-x` and `0-5-x`). Entries share a template, so they look alike whatever they say.
/// The pair check compares `series_pattern`s made once per note; this is the rule it applies.
#[cfg(test)]
pub(crate) fn same_series(a: &str, b: &str) -> bool {
    a != b && series_pattern(a) == series_pattern(b)
}

/// Months by name, as dated series write them.
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The path with each run of digits written `#`, each month's name (a whole word, any case)
/// `%` and each lone letter (no letter or digit on either side) `@`.
pub(crate) fn series_pattern(path: &str) -> String {
    let chars: Vec<char> = path.chars().collect();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let end = (i..chars.len()).find(|&j| !chars[j].is_alphanumeric()).unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect::<String>().to_lowercase();
            if MONTHS.contains(&word.as_str()) {
                out.push('%');
                i = end;
                continue;
            }
        }
        if c.is_ascii_digit() {
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push('#');
            continue;
        }
        let alone = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_none_or(|c| !c.is_alphanumeric());
        if c.is_alphabetic() && alone(i.checked_sub(1)) && alone(Some(i + 1)) {
            out.push('@');
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_children_by_folder_or_dots() {
        assert!(parent_and_child("a.md", "a/b.md"));
        assert!(parent_and_child("dendron.topic.md", "dendron.topic.links.md"));
        assert!(parent_and_child("x/a.b.md", "x/a.md"));
        assert!(!parent_and_child("a.md", "ab.md"));
        assert!(!parent_and_child("a.md", "b/a.md"));
        assert!(!parent_and_child("a.b.md", "a.c.md"), "siblings are not parent and child");
    }

    #[test]
    fn ancestors_are_above_at_any_depth_and_only_above() {
        assert!(is_ancestor("community.events.reading-series.md", "community.events.reading-series.2022.03.08.md"));
        assert!(is_ancestor("Spells.md", "Spells/Fire/Fireball.md"));
        assert!(!is_ancestor("community.events.reading-series.2022.03.08.md", "community.events.reading-series.md"));
        assert!(!is_ancestor("dendron.topic.md", "dendron.topics.md"));
    }

    #[test]
    fn series_differ_only_in_numbers_and_lone_letters() {
        assert!(same_series(
            "community.events.reading-series.2022.03.01.md",
            "community.events.reading-series.2022.10.11.md"
        ));
        assert!(same_series("Monsters (Alt)/Monsters J.md", "Monsters (Alt)/Monsters Y.md"));
        assert!(same_series("changelog.past-versions.0-4-x.md", "changelog.past-versions.0-5-x.md"));
        assert!(same_series(
            "Writings/summary-of-reading-january-march-2020.md",
            "Writings/summary-of-reading-October-December-2024.md"
        ));
        assert!(!same_series("Notes/Marchland.md", "Notes/Mayland.md"), "a month only as a whole word");
        assert!(same_series("Journal/March 2024.md", "Journal/may 2023.md"), "any case");
        assert!(!same_series("Spells/Sunbeam.md", "Spells/Sunburst.md"));
        assert!(!same_series("dendron.topic.pod-v2.md", "dendron.topic.pod.md"));
        assert!(!same_series("tags.stage.forest.md", "tags.stage.tree.md"));
        assert!(!same_series("a.md", "a.md"), "a note is not a series with itself");
        assert!(!same_series("Monsters/Ape.md", "Monsters/Apex.md"), "a letter inside a word is the word");
    }
}
