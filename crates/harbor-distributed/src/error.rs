//! The one error type of the distributed layer.

use harbor_a2a::A2aError;

/// Everything that can go wrong at a distributed edge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The identity is incomplete; nothing was sent or stored.
    #[error("identity required: {missing} is missing")]
    IdentityRequired {
        /// The missing part (`tenant`, `user`, `session`, `run`).
        missing: &'static str,
    },
    /// The bus, subscription or transport is closed.
    #[error("closed")]
    Closed,
    /// No driver has this name or URL scheme.
    #[error("unknown driver {name:?}; known drivers: {}", known.join(", "))]
    UnknownDriver {
        /// The name asked for.
        name: String,
        /// The names that are registered.
        known: Vec<String>,
    },
    /// The driver exists but was compiled out.
    #[error("driver {name:?} is not compiled in; enable the cargo feature {feature:?}")]
    DriverNotCompiled {
        /// The driver.
        name: String,
        /// The feature that brings it in.
        feature: String,
    },
    /// A driver name or scheme was registered twice.
    #[error("driver {name:?} is already registered")]
    DuplicateDriver {
        /// The name or scheme.
        name: String,
    },
    /// A driver URL or configuration is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// An edge or edge pattern is malformed.
    #[error("invalid edge: {0}")]
    InvalidEdge(String),
    /// An envelope is malformed.
    #[error("invalid envelope: {0}")]
    InvalidEnvelope(String),
    /// An argument is out of range or malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The payload is larger than the driver accepts.
    #[error("payload of {size} bytes exceeds the driver's limit of {max}")]
    PayloadTooLarge {
        /// The payload size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// No such task, or not visible to the caller.
    #[error("task {task_id} not found")]
    TaskNotFound {
        /// The task id.
        task_id: String,
    },
    /// A push config does not exist.
    #[error("push notification config {id} of task {task_id} not found")]
    PushConfigNotFound {
        /// The task id.
        task_id: String,
        /// The config id.
        id: String,
    },
    /// A task id is already taken.
    #[error("task {task_id} already exists")]
    AlreadyExists {
        /// The task id.
        task_id: String,
    },
    /// A versioned write named a stale version.
    #[error("task {task_id} is at version {actual}, not {expected}")]
    VersionConflict {
        /// The task id.
        task_id: String,
        /// The version the writer held.
        expected: u64,
        /// The stored version.
        actual: u64,
    },
    /// A write under an execution lease that another process has since taken over (see
    /// [`Leases`](crate::Leases)): this process's execution of the task is no longer its.
    #[error("the execution lease of task {task_id} was taken over by another process")]
    LeaseLost {
        /// The task id.
        task_id: String,
    },
    /// The transport has no route to this peer.
    #[error("no route to peer {url}")]
    UnknownPeer {
        /// The peer URL.
        url: String,
    },
    /// The delivery was already settled, or its lease expired and it was handed out again.
    #[error("delivery is no longer held: {0}")]
    DeliveryExpired(String),
    /// A stored task no longer decodes (written by an older version, or damaged). Only this
    /// task is affected: the store still serves every other.
    #[error(
        "task {} is stored but cannot be read: {reason}",
        harbor_a2a::error::clip(task_id)
    )]
    Unreadable {
        /// The task id.
        task_id: String,
        /// Why it does not decode.
        reason: String,
    },
    /// The peer answered with an A2A protocol error.
    #[error(transparent)]
    Protocol(#[from] A2aError),
    /// An operation did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// The engine or network failed.
    #[error("{driver} backend error")]
    Backend {
        /// The driver.
        driver: &'static str,
        /// Whether trying again can help (a lost connection, a full server).
        retryable: bool,
        /// The engine's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Whether retrying the same operation can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::VersionConflict { .. } => true,
            Self::Backend { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// The protocol error this maps to when a server answers a call with it.
    pub fn to_a2a(&self) -> A2aError {
        use harbor_a2a::ErrorKind;
        match self {
            Self::Protocol(e) => e.clone(),
            Self::TaskNotFound { task_id } => A2aError::task_not_found(task_id),
            Self::PushConfigNotFound { task_id, .. } => A2aError::task_not_found(task_id),
            Self::IdentityRequired { .. } | Self::InvalidArgument(_) => {
                A2aError::new(ErrorKind::InvalidParams, self.to_string())
            }
            Self::Unreadable { task_id, .. } => A2aError::internal(self.to_string())
                .with_metadata("taskId", harbor_a2a::error::clip(task_id)),
            _ => A2aError::internal(self.to_string()),
        }
    }
}
