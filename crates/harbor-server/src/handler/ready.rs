//! Readiness: whether this server should be sent traffic now.

use std::time::Duration;

use harbor_distributed::{Error, Owner};

use super::DefaultHandler;

/// The task id the store probe reads: never a real task (ids are UUIDs or client ids
/// in the caller's own namespace, and the probe's owner is nobody's).
const PROBE_TASK: &str = "harbor-readiness-probe";

/// What [`DefaultHandler::readiness`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// The server is stopping: new messages are refused.
    pub draining: bool,
    /// The store answered a read (`Err` says why not).
    pub store: Result<(), String>,
    /// The bus is followed and took the last publish; `None` without a bus.
    pub bus: Option<Result<(), String>>,
}

impl Readiness {
    /// Not draining, the store reachable, and the bus too when there is one.
    pub fn is_ready(&self) -> bool {
        !self.draining && self.store.is_ok() && self.bus.as_ref().is_none_or(Result::is_ok)
    }
}

impl DefaultHandler {
    /// Checks what traffic needs: the server is not draining, the store answers a read
    /// (of a task that does not exist) within `timeout`, and the bus, if any, is followed
    /// and took the last publish.
    pub async fn readiness(&self, timeout: Duration) -> Readiness {
        let owner = Owner {
            tenant: "harbor-readiness".into(),
            user: "harbor-readiness".into(),
        };
        let store =
            match tokio::time::timeout(timeout, self.rt.store().get(&owner, PROBE_TASK)).await {
                Ok(Ok(_) | Err(Error::TaskNotFound { .. })) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("the store did not answer within {timeout:?}")),
            };
        Readiness {
            draining: self.rt.is_draining(),
            store,
            bus: self.rt.bus_health(),
        }
    }

    /// The store's count of tasks by state over every owner (`None` when it keeps none);
    /// `Err` says why it failed or took longer than `timeout`. An operator's gauge: never
    /// show it to a caller.
    pub(crate) async fn tasks_by_state(
        &self,
        timeout: Duration,
    ) -> Result<Option<Vec<(harbor_a2a::TaskState, u64)>>, String> {
        match tokio::time::timeout(timeout, self.rt.store().count_by_state()).await {
            Ok(Ok(counts)) => Ok(counts),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("the store did not count within {timeout:?}")),
        }
    }
}
