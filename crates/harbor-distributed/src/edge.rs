//! Edge names and subscription patterns.
//!
//! Edges are dot-separated segments. A pattern segment `*` matches exactly one segment and a
//! final `>` matches one or more remaining segments (the NATS subject rules, so the JetStream
//! driver maps them one to one).

use crate::Error;

/// Checks a concrete edge: non-empty segments, no wildcards, no whitespace.
pub fn validate_edge(edge: &str) -> Result<(), Error> {
    check(edge, false)
}

/// Checks a subscription pattern.
pub fn validate_pattern(pattern: &str) -> Result<(), Error> {
    check(pattern, true)
}

/// What [`plain`] needs to know of a byte: bit 0 a dot, bit 1 never allowed in a plain
/// edge (not printable ASCII, or a wildcard character).
const CLASS: [u8; 256] = {
    let mut table = [2u8; 256];
    let mut c = 0x21;
    while c < 0x7f {
        table[c] = 0;
        c += 1;
    }
    table[b'.' as usize] = 1;
    table[b'*' as usize] = 2;
    table[b'>' as usize] = 2;
    table
};

/// The common case in one pass over the bytes: printable ASCII, no wildcard characters, no
/// empty segment. Such a string is a valid edge and pattern.
///
/// Runs on every publish, so it is a table lookup and a few bit operations per byte with
/// no branch inside the loop (about a third of the instructions of a byte-by-byte test).
fn plain(s: &str) -> bool {
    let (Some(&first), Some(&last)) = (s.as_bytes().first(), s.as_bytes().last()) else {
        return false;
    };
    // A leading or trailing dot is an empty first or last segment.
    let mut bad = (CLASS[first as usize] | CLASS[last as usize]) & 1;
    let mut prev = 0u8;
    for &c in s.as_bytes() {
        let class = CLASS[c as usize];
        // Bit 1: a forbidden byte; bit 0 of `class & prev`: two dots in a row.
        bad |= class & (2 | prev);
        prev = class & 1;
    }
    bad == 0
}

fn check(s: &str, pattern: bool) -> Result<(), Error> {
    // This runs on every publish: the fast path covers the usual edges.
    if plain(s) {
        return Ok(());
    }
    let what = if pattern { "edge pattern" } else { "edge" };
    if s.is_empty() {
        return Err(Error::InvalidEdge(format!("{what} is empty")));
    }
    let mut segments = s.split('.').peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg.is_empty() {
            return Err(Error::InvalidEdge(format!(
                "{what} {s:?} has an empty segment"
            )));
        }
        if seg.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidEdge(format!(
                "{what} {s:?} contains whitespace"
            )));
        }
        let wildcard = seg == "*" || seg == ">";
        if wildcard && !pattern {
            return Err(Error::InvalidEdge(format!(
                "edge {s:?} contains a wildcard"
            )));
        }
        if seg == ">" && !last {
            return Err(Error::InvalidEdge(format!(
                "pattern {s:?}: '>' must be last"
            )));
        }
        if !wildcard && (seg.contains('*') || seg.contains('>')) {
            return Err(Error::InvalidEdge(format!(
                "{what} {s:?}: wildcards must be whole segments"
            )));
        }
    }
    Ok(())
}

/// Whether `edge` matches `pattern` (both assumed valid).
pub fn matches(pattern: &str, edge: &str) -> bool {
    let mut p = pattern.split('.');
    let mut e = edge.split('.');
    loop {
        match (p.next(), e.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(ps), Some(es)) if ps == es => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_follows_subject_rules() {
        assert!(matches("a.b", "a.b"));
        assert!(!matches("a.b", "a.b.c"));
        assert!(matches("a.*", "a.b"));
        assert!(!matches("a.*", "a.b.c"));
        assert!(matches("a.>", "a.b.c"));
        assert!(!matches("a.>", "a"));
        assert!(matches("*.b", "x.b"));
    }

    #[test]
    fn invalid_edges_are_refused() {
        for bad in ["", "a..b", ".a", "a.", "a.*", "a b", "a.b*"] {
            assert!(validate_edge(bad).is_err(), "{bad:?} accepted");
        }
        for bad in ["a.>.b", "a.b*", ""] {
            assert!(validate_pattern(bad).is_err(), "{bad:?} accepted");
        }
        validate_pattern("a.*.>").expect("valid pattern");
        for good in ["a", "a.b", "x-y.z_1", "ünï.cödé", "a.b.c.d"] {
            validate_edge(good).expect(good);
            validate_pattern(good).expect(good);
        }
        for bad in ["a\t.b", "a.\u{7f}", "a. b"] {
            assert!(validate_edge(bad).is_err(), "{bad:?} accepted");
        }
    }

    /// The byte-by-byte definition `plain` replaced: the table version must agree with it.
    fn plain_reference(s: &str) -> bool {
        let mut prev = b'.';
        for &c in s.as_bytes() {
            if !c.is_ascii_graphic() || c == b'*' || c == b'>' || (c == b'.' && prev == b'.') {
                return false;
            }
            prev = c;
        }
        prev != b'.'
    }

    #[test]
    fn the_fast_path_agrees_with_the_byte_by_byte_rule() {
        let alphabet = [
            "a", "Z", ".", "*", ">", " ", "\u{7f}", "\u{1}", "~", "!", "é",
        ];
        let mut strings = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = strings
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(longer);
            strings.dedup();
        }
        let mut plain_ones = 0;
        for s in &strings {
            assert_eq!(plain(s), plain_reference(s), "{s:?}");
            plain_ones += usize::from(plain(s));
        }
        assert!(
            plain_ones > 100,
            "the alphabet must produce plain edges too"
        );
    }
}
