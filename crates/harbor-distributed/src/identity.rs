//! Who a call or an envelope acts for.

use std::fmt;

use crate::Error;

/// The identity every distributed edge requires: tenant, user and session, plus an
/// optional run.
///
/// The fields are public so identities can be built from any source, and every edge
/// (publish, subscribe, remote call) checks them with [`Identity::validate`] before anything
/// touches the wire or a store. There is no way to turn that check off.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Identity {
    /// The tenant (organisation, workspace).
    pub tenant: String,
    /// The user within the tenant.
    pub user: String,
    /// The session within which the user acts.
    pub session: String,
    /// One run of an agent within the session, when there is one.
    pub run: Option<String>,
}

impl Identity {
    /// A complete identity; fails with [`Error::IdentityRequired`] when a part is empty.
    pub fn new(
        tenant: impl Into<String>,
        user: impl Into<String>,
        session: impl Into<String>,
    ) -> Result<Self, Error> {
        let identity = Self {
            tenant: tenant.into(),
            user: user.into(),
            session: session.into(),
            run: None,
        };
        identity.validate()?;
        Ok(identity)
    }

    /// The same identity within run `run`.
    #[must_use]
    pub fn with_run(mut self, run: impl Into<String>) -> Self {
        self.run = Some(run.into());
        self
    }

    /// Checks that tenant, user and session are set (and `run`, when present, is not empty).
    pub fn validate(&self) -> Result<(), Error> {
        let missing = if self.tenant.is_empty() {
            "tenant"
        } else if self.user.is_empty() {
            "user"
        } else if self.session.is_empty() {
            "session"
        } else if self.run.as_deref() == Some("") {
            "run"
        } else {
            return Ok(());
        };
        Err(Error::IdentityRequired { missing })
    }

    /// The owner of resources created under this identity: (tenant, user).
    pub fn owner(&self) -> Owner {
        Owner {
            tenant: self.tenant.clone(),
            user: self.user.clone(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Identity");
        s.field("tenant", &self.tenant)
            .field("user", &self.user)
            .field("session", &self.session);
        if let Some(run) = &self.run {
            s.field("run", run);
        }
        s.finish()
    }
}

/// Who owns a task: tasks are visible only to their owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    /// The owning tenant.
    pub tenant: String,
    /// The owning user.
    pub user: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missing_part_is_named() {
        for (t, u, s, missing) in [
            ("", "u", "s", "tenant"),
            ("t", "", "s", "user"),
            ("t", "u", "", "session"),
        ] {
            match Identity::new(t, u, s) {
                Err(Error::IdentityRequired { missing: m }) => assert_eq!(m, missing),
                other => panic!("expected IdentityRequired for {missing}, got {other:?}"),
            }
        }
        let empty_run = Identity::new("t", "u", "s").map(|i| i.with_run(""));
        assert!(matches!(
            empty_run.map(|i| i.validate()),
            Ok(Err(Error::IdentityRequired { missing: "run" }))
        ));
    }
}
