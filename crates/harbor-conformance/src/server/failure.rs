//! How a case says it failed or could not run.

use std::fmt;

use super::Binding;

/// Why a case did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseFailure {
    /// The server broke the contract.
    Failed {
        /// The binding the failing call used; `None` for binding-free checks (the card).
        binding: Option<Binding>,
        /// The RPC (or HTTP resource) that misbehaved.
        rpc: String,
        /// What differed from what the protocol requires.
        detail: String,
    },
    /// The case cannot run against this target (the card does not declare the binding or
    /// capability it needs, or the target's options forbid it).
    Skipped {
        /// Why.
        reason: String,
    },
}

impl CaseFailure {
    /// A failure of `rpc` on `binding`.
    pub fn failed(
        binding: Option<Binding>,
        rpc: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::Failed {
            binding,
            rpc: rpc.into(),
            detail: detail.into(),
        }
    }

    /// A skip, with the reason.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Self::Skipped {
            reason: reason.into(),
        }
    }

    /// Whether this is a skip rather than a failure.
    pub fn is_skip(&self) -> bool {
        matches!(self, Self::Skipped { .. })
    }
}

impl fmt::Display for CaseFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed {
                binding: Some(binding),
                rpc,
                detail,
            } => write!(f, "{binding} {rpc}: {detail}"),
            Self::Failed {
                binding: None,
                rpc,
                detail,
            } => write!(f, "{rpc}: {detail}"),
            Self::Skipped { reason } => write!(f, "skipped: {reason}"),
        }
    }
}

impl std::error::Error for CaseFailure {}

/// Where a check is made: the binding and the RPC, so every failure names both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    /// The binding, if the check concerns one.
    pub binding: Option<Binding>,
    /// The RPC or resource.
    pub rpc: String,
}

impl At {
    /// Checks on `rpc` over `binding`.
    pub fn new(binding: Binding, rpc: impl Into<String>) -> Self {
        Self {
            binding: Some(binding),
            rpc: rpc.into(),
        }
    }

    /// Checks on a binding-free resource (such as the agent card).
    pub fn resource(rpc: impl Into<String>) -> Self {
        Self {
            binding: None,
            rpc: rpc.into(),
        }
    }

    /// A failure here.
    pub fn fail(&self, detail: impl Into<String>) -> CaseFailure {
        CaseFailure::failed(self.binding, self.rpc.clone(), detail)
    }

    /// Fails with `detail()` unless `ok`.
    pub fn ensure(&self, ok: bool, detail: impl FnOnce() -> String) -> Result<(), CaseFailure> {
        if ok { Ok(()) } else { Err(self.fail(detail())) }
    }

    /// Fails unless `got == want`, saying what `what` is.
    pub fn eq<T: PartialEq + fmt::Debug + ?Sized>(
        &self,
        what: &str,
        got: &T,
        want: &T,
    ) -> Result<(), CaseFailure> {
        self.ensure(got == want, || {
            format!("{what}: got {got:?}, want {want:?}")
        })
    }
}

/// Ends a test of the generated suite: a skip is printed, a failure panics with a message
/// naming the case, the binding and what differed.
pub fn conclude(case: &str, binding: Option<Binding>, outcome: Result<(), CaseFailure>) {
    let label = match binding {
        Some(binding) => format!("{case} [{binding}]"),
        None => case.to_owned(),
    };
    match outcome {
        Ok(()) => {}
        Err(CaseFailure::Skipped { reason }) => eprintln!("{label}: skipped, {reason}"),
        Err(failure) => panic!("{label} failed: {failure}"),
    }
}
