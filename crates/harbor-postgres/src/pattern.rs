//! Edge patterns as SQL matches: plain edges compare with `=`, wildcard patterns become
//! anchored PostgreSQL regular expressions (`*` one segment, a final `>` one or more).

/// Splits subscribed edges into (plain edges, regular expressions), each sorted and
/// without duplicates.
pub(crate) fn split(edges: &[String]) -> (Vec<String>, Vec<String>) {
    let mut exact = Vec::new();
    let mut patterns = Vec::new();
    for edge in edges {
        if edge.split('.').any(|s| s == "*" || s == ">") {
            patterns.push(regex(edge));
        } else {
            exact.push(edge.clone());
        }
    }
    exact.sort();
    exact.dedup();
    patterns.sort();
    patterns.dedup();
    (exact, patterns)
}

/// The regular expression matching what `pattern` matches (the pattern is valid).
pub(crate) fn regex(pattern: &str) -> String {
    let mut out = String::from("^");
    for (i, segment) in pattern.split('.').enumerate() {
        if i > 0 {
            out.push_str("\\.");
        }
        match segment {
            "*" => out.push_str("[^.]+"),
            ">" => out.push_str(".+"),
            literal => {
                for c in literal.chars() {
                    // In PostgreSQL's regex syntax a backslash before an ASCII punctuation
                    // character makes it literal; before a letter it would start an escape.
                    if c.is_ascii() && !c.is_ascii_alphanumeric() {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_become_anchored_regexes() {
        assert_eq!(regex("a.*"), "^a\\.[^.]+$");
        assert_eq!(regex("a-b.>"), "^a\\-b\\..+$");
        let (exact, patterns) = split(&["x.y".into(), "x.*".into(), "x.y".into()]);
        assert_eq!(exact, ["x.y"]);
        assert_eq!(patterns, ["^x\\.[^.]+$"]);
    }
}
