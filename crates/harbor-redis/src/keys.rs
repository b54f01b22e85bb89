//! Key names: streams per edge prefix, a retry stream and a delay set per group, dedup keys.
//!
//! An edge lives in the stream of its first segment (`orders.created` in `<prefix>:s:orders`),
//! and a dead-letter edge in the stream of its first two (`dead-letter.<group>`), so one
//! group's dead letters do not share a stream with every other group's.

use harbor_distributed::bus::dead_letter;
use harbor_distributed::{Error, IdentityScope};

/// How many leading segments of `edge` name its stream.
fn stream_segments(first: &str) -> usize {
    if first == dead_letter::PREFIX { 2 } else { 1 }
}

/// The stream key of a concrete edge.
pub(crate) fn stream_of_edge(prefix: &str, edge: &str) -> String {
    let mut segments = edge.split('.');
    let first = segments.next().unwrap_or_default();
    let mut name = first.to_owned();
    if stream_segments(first) == 2
        && let Some(second) = segments.next()
    {
        name.push('.');
        name.push_str(second);
    }
    format!("{prefix}:s:{name}")
}

/// The stream key a pattern reads; its stream segments must be concrete.
pub(crate) fn stream_of_pattern(prefix: &str, pattern: &str) -> Result<String, Error> {
    let segments: Vec<&str> = pattern.split('.').collect();
    let first = segments.first().copied().unwrap_or_default();
    let wanted = if first == dead_letter::PREFIX { 2 } else { 1 };
    let needs = &segments[..wanted.min(segments.len())];
    if needs.len() < wanted || needs.iter().any(|s| *s == "*" || *s == ">") {
        return Err(Error::InvalidArgument(format!(
            "the redis bus needs the first segment of an edge pattern (the first two of a \
             dead-letter pattern) to be concrete, it names the stream; {pattern:?} is not"
        )));
    }
    Ok(format!("{prefix}:s:{}", needs.join(".")))
}

/// The Redis consumer group name of `group` in `scope`: one group per (name, scope), so
/// tenant `a`'s `workers` and tenant `b`'s `workers` never compete.
pub(crate) fn group_name(group: &str, scope: &IdentityScope) -> String {
    match scope {
        IdentityScope::Admin => format!("{}:{group}:admin", group.len()),
        IdentityScope::Tenant(t) => format!("{}:{group}:t={t}", group.len()),
    }
}

/// The start every Redis group name of `group` (in any scope) has: the length makes it
/// unambiguous (`2:ab:` is never a prefix of group `a`'s names).
pub(crate) fn group_names_prefix(group: &str) -> String {
    format!("{}:{group}:", group.len())
}

/// A `SCAN … MATCH` pattern matching `literal` and nothing else, then anything.
pub(crate) fn glob_prefix(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() + 1);
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('*');
    out
}

/// The group's retry stream: nacked and released entries, read by that group only.
pub(crate) fn retry_stream(prefix: &str, group: &str) -> String {
    format!("{prefix}:r:{group}")
}

/// The group's delayed retries: a sorted set scored by due time (server clock, ms).
pub(crate) fn delay_set(prefix: &str, group: &str) -> String {
    format!("{prefix}:z:{group}")
}

/// The hash of group name -> the edge patterns its members subscribe to.
pub(crate) fn groups_hash(prefix: &str) -> String {
    format!("{prefix}:groups")
}

/// The idempotency key of `(task_id, edge, event_id)`; lengths keep it unambiguous.
pub(crate) fn dedup_key(prefix: &str, task: &str, edge: &str, event_id: &str) -> String {
    format!(
        "{prefix}:d:{}.{}:{task}{edge}{event_id}",
        task.len(),
        edge.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_and_patterns_share_streams() {
        assert_eq!(stream_of_edge("h", "a.b.c"), "h:s:a");
        assert_eq!(stream_of_pattern("h", "a.*").ok().as_deref(), Some("h:s:a"));
        assert_eq!(stream_of_pattern("h", "a.>").ok().as_deref(), Some("h:s:a"));
        assert_eq!(
            stream_of_edge("h", "dead-letter.g.a.b"),
            "h:s:dead-letter.g"
        );
        assert_eq!(
            stream_of_pattern("h", "dead-letter.g.>").ok().as_deref(),
            Some("h:s:dead-letter.g")
        );
        for bad in ["*.a", ">", "dead-letter.*.x", "dead-letter.>"] {
            assert!(stream_of_pattern("h", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_unambiguous() {
        let a = group_name("a:t=b", &IdentityScope::Tenant("c".into()));
        let b = group_name("a", &IdentityScope::Tenant("b:t=c".into()));
        assert_ne!(a, b);
        assert_ne!(
            dedup_key("p", "ab", "c", "d"),
            dedup_key("p", "a", "bc", "d")
        );
    }

    #[test]
    fn a_groups_names_in_every_scope_share_a_prefix_no_other_group_has() {
        let prefix = group_names_prefix("ab");
        for scope in [IdentityScope::Admin, IdentityScope::Tenant("t".into())] {
            assert!(group_name("ab", &scope).starts_with(&prefix));
            assert!(!group_name("a", &scope).starts_with(&prefix));
            assert!(!group_name("abc", &scope).starts_with(&prefix));
        }
        assert_eq!(glob_prefix("2:a?[b]*\\:"), "2:a\\?\\[b\\]\\*\\\\:*");
    }
}
