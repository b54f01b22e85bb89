//! What a subscription asks for: its edges, group, identity scope and limits.

use std::time::Duration;

use crate::Error;

/// Which envelopes a subscription may see, by identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdentityScope {
    /// Only envelopes whose identity has this tenant.
    Tenant(String),
    /// Every tenant: for operators and system workers, stated explicitly.
    Admin,
}

impl IdentityScope {
    /// Whether an envelope of `tenant` is in scope.
    pub fn admits(&self, tenant: &str) -> bool {
        match self {
            Self::Tenant(t) => t == tenant,
            Self::Admin => true,
        }
    }
}

/// Where a new consumer group starts. An existing group resumes where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartPosition {
    /// Only envelopes published after the group is created (the default).
    #[default]
    New,
    /// Everything the driver still retains (needs `replay`).
    Earliest,
    /// From this driver sequence on (needs `replay`).
    Sequence(u64),
}

/// What to subscribe to and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeOptions {
    /// Edges or patterns (`a.*`, `a.>`); at least one.
    pub edges: Vec<String>,
    /// Consumer group: subscribers of one group share the work, each group gets everything.
    pub group: String,
    /// Identity scope.
    pub scope: IdentityScope,
    /// Where a new group starts. Default: [`StartPosition::New`].
    pub start: StartPosition,
    /// Deliveries this subscription may hold unacknowledged. Default 256.
    pub max_in_flight: usize,
    /// How long a delivery may stay unacknowledged before it is redelivered. Default 30 s.
    pub visibility_timeout: Duration,
    /// Deliveries of one envelope before it is dead-lettered. Default 5.
    pub max_attempts: u32,
}

impl SubscribeOptions {
    /// Options for `edges` in `group` limited to `scope`, other fields at their defaults.
    pub fn new<I, S>(edges: I, group: impl Into<String>, scope: IdentityScope) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            edges: edges.into_iter().map(Into::into).collect(),
            group: group.into(),
            scope,
            start: StartPosition::New,
            max_in_flight: 256,
            visibility_timeout: Duration::from_secs(30),
            max_attempts: 5,
        }
    }

    /// Sets the start position.
    #[must_use]
    pub fn start(mut self, start: StartPosition) -> Self {
        self.start = start;
        self
    }

    /// Sets the in-flight limit.
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n;
        self
    }

    /// Sets the visibility timeout.
    #[must_use]
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = d;
        self
    }

    /// Sets the attempt limit.
    #[must_use]
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// Checks the options every driver requires.
    pub fn validate(&self) -> Result<(), Error> {
        if self.edges.is_empty() {
            return Err(Error::InvalidArgument(
                "subscribe needs at least one edge".into(),
            ));
        }
        for edge in &self.edges {
            crate::edge::validate_pattern(edge)?;
        }
        if self.group.is_empty()
            || self.group.contains('.')
            || crate::edge::validate_edge(&self.group).is_err()
        {
            return Err(Error::InvalidArgument(format!(
                "consumer group {:?} must be one non-empty edge segment (no dots, wildcards or spaces)",
                self.group
            )));
        }
        if let IdentityScope::Tenant(t) = &self.scope
            && t.is_empty()
        {
            return Err(Error::IdentityRequired { missing: "tenant" });
        }
        if self.max_in_flight == 0 {
            return Err(Error::InvalidArgument(
                "max_in_flight must be at least 1".into(),
            ));
        }
        if self.max_attempts == 0 {
            return Err(Error::InvalidArgument(
                "max_attempts must be at least 1".into(),
            ));
        }
        if self.visibility_timeout.is_zero() {
            return Err(Error::InvalidArgument(
                "visibility_timeout must be positive".into(),
            ));
        }
        Ok(())
    }
}
