//! A group's backlog from its durable consumers' info: what JetStream has not delivered
//! to them (`num_pending`) and what it delivered and is still waiting for an ack of
//! (`num_ack_pending`, nacked envelopes included).

use futures::TryStreamExt;
use harbor_distributed::Error;

use crate::core::Core;
use crate::errors;
use crate::layout;

/// The backlog of `group`: summed over its consumers, one per scope it was subscribed in
/// (by any process), found among the stream's consumers by name and description.
pub(crate) async fn backlog(core: &Core, group: &str) -> Result<u64, Error> {
    if core.life.is_closed() {
        return Err(Error::Closed);
    }
    let js = async_nats::jetstream::new(core.client.clone());
    let stream = js
        .get_stream_no_info(&core.config.stream)
        .await
        .map_err(errors::api)?;
    let mut names = stream.consumer_names();
    let mut total = 0u64;
    while let Some(name) = names.try_next().await.map_err(errors::api)? {
        if !layout::may_be_consumer_of(&name, group) {
            continue;
        }
        let info = match stream.consumer_info(&name).await {
            Ok(info) => info,
            // Deleted between the listing and now: it owes nothing.
            Err(error)
                if error.kind()
                    == async_nats::jetstream::context::ConsumerInfoErrorKind::NotFound =>
            {
                continue;
            }
            Err(error) => return Err(errors::api(error)),
        };
        let ours = info
            .config
            .description
            .as_deref()
            .is_some_and(|d| layout::describes(d, group));
        if ours {
            total += info.num_pending + info.num_ack_pending as u64;
        }
    }
    Ok(total)
}
