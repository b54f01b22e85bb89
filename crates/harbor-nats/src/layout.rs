//! How envelopes map to subjects, groups to durable consumers, keys to `Nats-Msg-Id`s.
//!
//! Subjects are `<prefix>.<tenant>.<edge>`: the tenant token lets a tenant-scoped consumer
//! filter on the server, and edge patterns (`*`, `>`) are NATS subject wildcards already.

use std::fmt::Write as _;

use harbor_distributed::{Envelope, IdentityScope, SubscribeOptions};

/// The subject layout of one namespace.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    prefix: String,
}

impl Layout {
    pub(crate) fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// Every subject of the namespace, for the stream.
    pub(crate) fn all(&self) -> String {
        format!("{}.>", self.prefix)
    }

    /// The subject an envelope is stored under.
    pub(crate) fn subject(&self, envelope: &Envelope) -> String {
        let tenant = &*envelope.identity.tenant;
        let mut s =
            String::with_capacity(self.prefix.len() + tenant.len() + envelope.edge.len() + 2);
        s.push_str(&self.prefix);
        s.push('.');
        push_tenant(&mut s, tenant);
        s.push('.');
        s.push_str(&envelope.edge);
        s
    }

    /// The consumer filter for a subscription: its scope's tenant token (or `*`) followed by
    /// the narrowest pattern covering all its edges. With one edge the filter is exact;
    /// with several, envelopes the filter lets through that match none of the edges are
    /// acknowledged by the subscription without being handed out (see [`Matcher`]).
    pub(crate) fn filter(&self, options: &SubscribeOptions) -> (String, Matcher) {
        let mut edges = options.edges.clone();
        edges.sort();
        edges.dedup();
        let cover = covering(&edges);
        let mut filter = format!("{}.", self.prefix);
        match &options.scope {
            IdentityScope::Tenant(t) => push_tenant(&mut filter, t),
            IdentityScope::Admin => filter.push('*'),
        }
        filter.push('.');
        filter.push_str(&cover);
        let exact = edges.len() == 1;
        let matcher = Matcher {
            skip: self.prefix.len() + 1,
            edges,
            exact,
        };
        (filter, matcher)
    }
}

/// Decides, client-side, whether a delivered subject is one of a subscription's edges (only
/// needed when the consumer filter covers more than the edges).
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    skip: usize,
    edges: Vec<String>,
    exact: bool,
}

impl Matcher {
    /// Whether the envelope stored under `subject` is for this subscription.
    pub(crate) fn admits(&self, subject: &str) -> bool {
        if self.exact {
            return true;
        }
        let edge = subject
            .get(self.skip..)
            .and_then(|rest| rest.split_once('.'))
            .map(|(_, edge)| edge);
        match edge {
            Some(edge) => self
                .edges
                .iter()
                .any(|p| harbor_distributed::edge::matches(p, edge)),
            None => false,
        }
    }

    /// The edges, sorted, for the consumer's description.
    pub(crate) fn edges(&self) -> &[String] {
        &self.edges
    }
}

/// Appends the subject token for `tenant`: the tenant itself when it is letters, digits,
/// `-` and `_` (the common case, readable in server tools), else `~` and its bytes in hex.
/// The two forms never collide, since a plain token has no `~`.
fn push_tenant(out: &mut String, tenant: &str) {
    let plain = !tenant.is_empty()
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        out.push_str(tenant);
    } else {
        out.push('~');
        for b in tenant.bytes() {
            let _ = write!(out, "{b:02x}");
        }
    }
}

/// The narrowest subject pattern matching every pattern in `edges` (at least one): equal
/// tokens are kept, differing ones become `*`, and a difference in length (or a `>`) ends
/// the pattern with `>` after the common tokens.
fn covering(edges: &[String]) -> String {
    let split: Vec<Vec<&str>> = edges.iter().map(|e| e.split('.').collect()).collect();
    let Some(first) = split.first() else {
        return ">".to_owned();
    };
    let same_len = split.iter().all(|s| s.len() == first.len());
    let mut out: Vec<&str> = Vec::new();
    for (i, token) in first.iter().enumerate() {
        let any_rest = split.iter().any(|s| s.get(i) == Some(&">"))
            || (!same_len && split.iter().any(|s| s.len() <= i + 1));
        if any_rest {
            out.push(">");
            break;
        }
        if split.iter().all(|s| s.get(i) == Some(token)) {
            out.push(token);
        } else {
            out.push("*");
        }
    }
    out.join(".")
}

/// The durable consumer of `group` in `scope`: a readable part of the group name and a
/// hash of the full (group, scope), so tenant `a`'s and tenant `b`'s `workers` are two
/// consumers, and names stay valid consumer (and file) names.
pub(crate) fn consumer_name(group: &str, scope: &IdentityScope) -> String {
    let mut hash = Fnv::new();
    hash.write(group.as_bytes());
    match scope {
        IdentityScope::Tenant(t) => {
            hash.write(b"\0tenant\0");
            hash.write(t.as_bytes());
        }
        IdentityScope::Admin => hash.write(b"\0admin"),
    }
    format!("{}_{:016x}", readable(group), hash.finish())
}

/// The readable part of a group's consumer names.
fn readable(group: &str) -> String {
    group
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect()
}

/// Whether `consumer` may be the consumer of `group` in some scope: named like one. The
/// readable part can be shared by other groups (`a.b` and `ab`), so the description
/// ([`describes`]) decides.
pub(crate) fn may_be_consumer_of(consumer: &str, group: &str) -> bool {
    consumer
        .strip_prefix(readable(group).as_str())
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|hash| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The description of `group`'s consumer, which names the group and its edges.
pub(crate) fn description(group: &str, edges: &[String]) -> String {
    format!("harbor group {group:?} edges {edges:?}")
}

/// Whether a consumer description is that of a consumer of `group`.
pub(crate) fn describes(description: &str, group: &str) -> bool {
    description
        .strip_prefix(&format!("harbor group {group:?} edges "))
        .is_some()
}

/// The `Nats-Msg-Id` of an envelope: `task|edge|event_id`, each part with `%`, `|`, CR and
/// LF percent-escaped, so distinct keys give distinct ids and the id is a valid header.
pub(crate) fn message_id(envelope: &Envelope) -> String {
    let task = envelope.task_id.as_deref().unwrap_or("");
    let mut id =
        String::with_capacity(task.len() + envelope.edge.len() + envelope.event_id.len() + 2);
    escape(&mut id, task);
    id.push('|');
    escape(&mut id, &envelope.edge);
    id.push('|');
    escape(&mut id, &envelope.event_id);
    id
}

fn escape(out: &mut String, part: &str) {
    if !part.contains(['%', '|', '\r', '\n']) {
        out.push_str(part);
        return;
    }
    for c in part.chars() {
        match c {
            '%' => out.push_str("%25"),
            '|' => out.push_str("%7C"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
}

/// FNV-1a, 64 bits: stable across processes and versions, unlike `std`'s hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use harbor_distributed::Identity;

    use super::*;

    fn cover(edges: &[&str]) -> String {
        let mut owned: Vec<String> = edges.iter().map(|e| (*e).to_owned()).collect();
        owned.sort();
        covering(&owned)
    }

    #[test]
    fn covering_patterns_are_narrow_and_complete() {
        assert_eq!(cover(&["a.b"]), "a.b");
        assert_eq!(cover(&["a.b", "a.c"]), "a.*");
        assert_eq!(cover(&["a.b.c", "a.x.c"]), "a.*.c");
        assert_eq!(cover(&["a.b", "a.b.c"]), "a.>");
        assert_eq!(cover(&["a.>", "a.b"]), "a.>");
        assert_eq!(cover(&["a", "b.c"]), ">");
        assert_eq!(cover(&["x.*", "y.*"]), "*.*");
        let edges = ["a.b", "a.b.c", "a.q.r.s", "a.*"];
        let pattern = cover(&edges);
        for e in ["a.b", "a.b.c", "a.q.r.s", "a.z"] {
            assert!(
                harbor_distributed::edge::matches(&pattern, e),
                "{pattern} misses {e}"
            );
        }
    }

    #[test]
    fn subjects_scope_and_match() {
        let layout = Layout::new("hb");
        let who = Identity::new("acme", "u", "s").expect("identity");
        let env = Envelope::new("orders.new", who, "e1", "x");
        assert_eq!(layout.subject(&env), "hb.acme.orders.new");
        let mut odd = env.clone();
        odd.identity.tenant = "a.b c".into();
        assert_eq!(layout.subject(&odd), "hb.~612e622063.orders.new");
        let options = SubscribeOptions::new(
            ["orders.new", "orders.old"],
            "g",
            IdentityScope::Tenant("acme".into()),
        );
        let (filter, matcher) = layout.filter(&options);
        assert_eq!(filter, "hb.acme.orders.*");
        assert!(matcher.admits("hb.acme.orders.new"));
        assert!(!matcher.admits("hb.acme.orders.mid"));
        let admin = SubscribeOptions::new(["x.>"], "g", IdentityScope::Admin);
        assert_eq!(layout.filter(&admin).0, "hb.*.x.>");
    }

    #[test]
    fn consumer_names_and_message_ids_are_distinct_and_valid() {
        let a = consumer_name("workers", &IdentityScope::Tenant("a".into()));
        let b = consumer_name("workers", &IdentityScope::Tenant("b".into()));
        let admin = consumer_name("workers", &IdentityScope::Admin);
        assert!(a != b && a != admin && a.starts_with("workers_"));
        assert!(!consumer_name("ü.x*", &IdentityScope::Admin).contains(['.', '*', '>']));
        let who = Identity::new("t", "u", "s").expect("identity");
        let one = Envelope::new("e", who.clone(), "a|b", "").with_task("t");
        let two = Envelope::new("e", who, "b", "").with_task("t|a");
        assert_ne!(message_id(&one), message_id(&two));
        assert_eq!(message_id(&one), "t|e|a%7Cb");
    }

    #[test]
    fn a_groups_consumers_are_found_by_name_and_description() {
        let edges = vec!["a.b".to_owned()];
        for scope in [IdentityScope::Admin, IdentityScope::Tenant("t".into())] {
            let name = consumer_name("workers", &scope);
            assert!(may_be_consumer_of(&name, "workers"), "{name}");
            assert!(!may_be_consumer_of(&name, "worker"), "{name}");
            assert!(!may_be_consumer_of(&name, "workers-2"), "{name}");
        }
        // Groups whose readable parts are equal are told apart by the description.
        let shared = consumer_name("w~1", &IdentityScope::Admin);
        assert!(may_be_consumer_of(&shared, "w1"));
        assert!(describes(&description("w~1", &edges), "w~1"));
        assert!(!describes(&description("w~1", &edges), "w1"));
        assert!(!describes(&description("workers-2", &edges), "workers"));
    }
}
