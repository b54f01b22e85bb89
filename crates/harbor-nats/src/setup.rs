//! Creating (or checking) the namespace's stream and a group's durable consumer.

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::stream::{self, DiscardPolicy, RetentionPolicy, StorageType};
use harbor_distributed::{Error, StartPosition, SubscribeOptions};

use crate::config::Storage;
use crate::core::Core;
use crate::errors;
use crate::layout::{self, Matcher, consumer_name};

/// Creates the stream unless it exists; an existing one must hold the namespace's subjects.
pub(crate) async fn ensure_stream(core: &Core) -> Result<(), Error> {
    let js = async_nats::jetstream::new(core.client.clone());
    let config = &core.config;
    let wanted = stream::Config {
        name: config.stream.clone(),
        subjects: vec![core.layout.all()],
        retention: RetentionPolicy::Limits,
        storage: match config.storage {
            Storage::File => StorageType::File,
            Storage::Memory => StorageType::Memory,
        },
        num_replicas: config.replicas,
        max_age: config.max_age,
        duplicate_window: config.duplicate_window,
        discard: DiscardPolicy::Old,
        description: Some("harbor message bus".to_owned()),
        ..Default::default()
    };
    let mut stream = js.get_or_create_stream(wanted).await.map_err(errors::api)?;
    let info = stream.info().await.map_err(errors::api)?;
    if !info.config.subjects.contains(&core.layout.all()) {
        return Err(Error::InvalidConfig(format!(
            "stream {:?} exists with subjects {:?}, not {:?}: choose another stream or prefix",
            config.stream,
            info.config.subjects,
            core.layout.all()
        )));
    }
    Ok(())
}

/// What a subscription needs to know about its group's consumer.
pub(crate) struct Group {
    pub(crate) consumer: String,
    pub(crate) matcher: Matcher,
    /// The consumer's AckWait: how long a delivery is held.
    pub(crate) ack_wait: Duration,
}

/// Opens the durable consumer of the subscription's group, creating it at the start
/// position when it does not exist. Every member of a group must subscribe to the same
/// edges; a member with other visibility settings updates the group's.
pub(crate) async fn ensure_consumer(
    core: &Core,
    options: &SubscribeOptions,
) -> Result<Group, Error> {
    let js = async_nats::jetstream::new(core.client.clone());
    let stream = js
        .get_stream_no_info(&core.config.stream)
        .await
        .map_err(errors::api)?;
    let name = consumer_name(&options.group, &options.scope);
    let (filter, matcher) = core.layout.filter(options);
    let description = layout::description(&options.group, matcher.edges());
    let mut wanted = pull::Config {
        durable_name: Some(name.clone()),
        description: Some(description),
        deliver_policy: match options.start {
            StartPosition::New => DeliverPolicy::New,
            StartPosition::Earliest => DeliverPolicy::All,
            StartPosition::Sequence(n) => DeliverPolicy::ByStartSequence { start_sequence: n },
        },
        ack_policy: AckPolicy::Explicit,
        ack_wait: options.visibility_timeout,
        // Attempts are counted by the subscribers, which dead-letter an envelope themselves
        // (see the crate docs): the server never gives up on one.
        max_deliver: -1,
        filter_subject: filter,
        max_ack_pending: i64::try_from(core.config.max_ack_pending).unwrap_or(i64::MAX),
        ..Default::default()
    };
    match stream.consumer_info(&name).await {
        Ok(info) => {
            let existing = info.config;
            if existing.filter_subject != wanted.filter_subject
                || existing.description != wanted.description
            {
                return Err(Error::InvalidArgument(format!(
                    "consumer group {:?} already subscribes to other edges ({}); its members must subscribe to the same edges",
                    options.group,
                    existing.description.unwrap_or_default()
                )));
            }
            let same = existing.ack_wait == wanted.ack_wait
                && existing.max_ack_pending == wanted.max_ack_pending;
            if same {
                return Ok(Group {
                    consumer: name,
                    matcher,
                    ack_wait: existing.ack_wait,
                });
            }
            tracing::info!(
                group = %options.group,
                ack_wait = ?wanted.ack_wait,
                "updating the group's visibility timeout to the newest member's"
            );
            wanted.deliver_policy = existing.deliver_policy;
        }
        Err(error) if error.kind() == ConsumerInfoErrorKind::NotFound => {}
        Err(error) => return Err(errors::api(error)),
    }
    let ack_wait = wanted.ack_wait;
    stream.create_consumer(wanted).await.map_err(errors::api)?;
    Ok(Group {
        consumer: name,
        matcher,
        ack_wait,
    })
}

/// Deletes the stream (for `temporary` buses).
pub(crate) async fn delete_stream(core: &Core) -> Result<(), Error> {
    let js = async_nats::jetstream::new(core.client.clone());
    js.delete_stream(&core.config.stream)
        .await
        .map(|_| ())
        .map_err(errors::api)
}
