//! Random names, so cases never see each other's envelopes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A case's random namespace: every edge, group and tenant a case uses goes through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    id: String,
}

impl Namespace {
    /// A namespace no other case (in this process or, with high probability, any other)
    /// uses.
    pub fn random() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut hasher = RandomState::new().build_hasher();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hasher.write_u128(nanos);
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        Self {
            id: format!("{:016x}", hasher.finish()),
        }
    }

    /// The random part.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The edge prefix, one segment: every edge of the case starts with it.
    pub fn prefix(&self) -> String {
        format!("c{}", self.id)
    }

    /// Edge `name` (dot-separated segments allowed) inside the namespace.
    pub fn edge(&self, name: &str) -> String {
        format!("c{}.{name}", self.id)
    }

    /// Consumer group `name` (one segment) inside the namespace.
    pub fn group(&self, name: &str) -> String {
        format!("{name}-{}", self.id)
    }

    /// Tenant `name` inside the namespace.
    pub fn tenant(&self, name: &str) -> String {
        format!("{name}-{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_differ_and_make_valid_names() {
        let a = Namespace::random();
        let b = Namespace::random();
        assert_ne!(a, b);
        harbor_distributed::edge::validate_edge(&a.edge("x.y")).expect("edge");
        harbor_distributed::edge::validate_pattern(&format!("{}.>", a.prefix())).expect("pattern");
        assert!(!a.group("g").contains('.'));
    }
}
