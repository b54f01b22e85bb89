//! Who a call or an envelope acts for.

use std::fmt;
use std::sync::Arc;

use crate::Error;

/// The identity every distributed edge requires: tenant, user and session, plus an
/// optional run.
///
/// The fields are public so identities can be built from any source, and every edge
/// (publish, subscribe, remote call) checks them with [`Identity::validate`] before anything
/// touches the wire or a store. There is no way to turn that check off.
///
/// The parts are shared strings (`Arc<str>`): one identity is typically stamped on thousands
/// of envelopes, and cloning it only bumps reference counts. Build the parts from `&str` or
/// `String` with `.into()` (`Identity { tenant: "acme".into(), .. }`); they read as `&str`
/// through `&*identity.tenant` or `identity.tenant.as_ref()`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Identity {
    /// The tenant (organisation, workspace).
    pub tenant: Arc<str>,
    /// The user within the tenant.
    pub user: Arc<str>,
    /// The session within which the user acts.
    pub session: Arc<str>,
    /// One run of an agent within the session, when there is one.
    pub run: Option<Arc<str>>,
}

impl Identity {
    /// A complete identity; fails with [`Error::IdentityRequired`] when a part is empty.
    pub fn new(
        tenant: impl Into<Arc<str>>,
        user: impl Into<Arc<str>>,
        session: impl Into<Arc<str>>,
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
    pub fn with_run(mut self, run: impl Into<Arc<str>>) -> Self {
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
            tenant: Arc::clone(&self.tenant),
            user: Arc::clone(&self.user),
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
///
/// Like [`Identity`], its parts are shared strings, built with `.into()`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owner {
    /// The owning tenant.
    pub tenant: Arc<str>,
    /// The owning user.
    pub user: Arc<str>,
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

    #[test]
    fn parts_build_from_strings_and_clones_share_them() {
        let from_literal = Identity {
            tenant: "t".into(),
            user: String::from("u").into(),
            session: "s".into(),
            run: None,
        };
        assert_eq!(
            Identity::new("t", "u", "s").ok(),
            Some(from_literal.clone())
        );
        let copy = from_literal.clone();
        assert!(Arc::ptr_eq(&copy.tenant, &from_literal.tenant));
        let owner = from_literal.owner();
        assert_eq!((&*owner.tenant, &*owner.user), ("t", "u"));
        assert!(Arc::ptr_eq(&owner.user, &from_literal.user));
    }
}
