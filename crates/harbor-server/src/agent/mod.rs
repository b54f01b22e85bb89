//! The built-in agent of `harbor serve`: it behaves as the A2A conformance kits expect,
//! choosing what to do from the prefix of the user message's id (or of its text, see
//! [`Behaviour`]), and otherwise completes the task echoing the input.

mod behaviour;
pub mod exec;
mod text;

use std::time::Duration;

use async_trait::async_trait;
use harbor_a2a::A2aError;

pub use behaviour::{Behaviour, CANCEL_WAIT};

use crate::executor::{AgentExecutor, EventSink, RequestContext};

/// The conformance agent. Stateless: everything it needs is in the request.
#[derive(Debug, Clone)]
pub struct ConformanceAgent {
    /// How long the slow behaviours (`test-resubscribe-message-id`, `tck-long-running`) stay
    /// WORKING. Default 4 s.
    pub resubscribe_delay: Duration,
}

impl Default for ConformanceAgent {
    fn default() -> Self {
        Self {
            resubscribe_delay: Duration::from_secs(4),
        }
    }
}

#[async_trait]
impl AgentExecutor for ConformanceAgent {
    async fn execute(&self, ctx: RequestContext, events: EventSink) -> Result<(), A2aError> {
        let behaviour = Behaviour::for_request(&ctx);
        tracing::debug!(message_id = %ctx.message.message_id, ?behaviour, "conformance agent");
        behaviour.run(&ctx, &events, self.resubscribe_delay).await
    }
}
