//! proptest strategies for the A2A messages (shared by the round-trip tests).

mod card;

use harbor_a2a::json::{json_to_struct, json_to_value};
use harbor_a2a::part::Content;
use harbor_a2a::pbjson_types::{Struct, Timestamp};
use harbor_a2a::{
    Artifact, AuthenticationInfo, ListTasksRequest, ListTasksResponse, Message, Part,
    SendMessageConfiguration, SendMessageRequest, StreamResponse, Task, TaskArtifactUpdateEvent,
    TaskPushNotificationConfig, TaskState, TaskStatus, TaskStatusUpdateEvent,
};
use proptest::collection::{hash_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use serde_json::Value;

pub(crate) use card::agent_card;

/// Any short string, control and non-ASCII characters included.
pub(crate) fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..6).prop_map(String::from_iter)
}

pub(crate) fn texts() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 0..3)
}

/// Finite numbers: whole ones (written as integers), fractions, tiny and huge ones.
fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (-1_000_000i64..1_000_000).prop_map(|n| n as f64),
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
    ]
}

/// Any JSON value, nested a few levels, nulls included.
pub(crate) fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            hash_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn structure() -> impl Strategy<Value = Struct> {
    hash_map(text(), json(), 0..3).prop_map(|m| json_to_struct(m.into_iter().collect()))
}

pub(crate) fn metadata() -> impl Strategy<Value = Option<Struct>> {
    of(structure())
}

pub(crate) fn timestamp() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800i64..=253_402_300_799, 0..1_000_000_000i32)
        .prop_map(|(seconds, nanos)| Timestamp { seconds, nanos })
}

fn state() -> impl Strategy<Value = i32> {
    prop::sample::select(TaskState::ALL.to_vec()).prop_map(|s| s as i32)
}

pub(crate) fn part() -> impl Strategy<Value = Part> {
    let content = of(prop_oneof![
        text().prop_map(Content::Text),
        vec(any::<u8>(), 0..16).prop_map(Content::Raw),
        text().prop_map(Content::Url),
        json().prop_map(|v| Content::Data(json_to_value(v))),
    ]);
    (content, metadata(), text(), text()).prop_map(|(content, metadata, filename, media_type)| {
        Part {
            content,
            metadata,
            filename,
            media_type,
        }
    })
}

pub(crate) fn message() -> impl Strategy<Value = Message> {
    (
        text(),
        text(),
        text(),
        0..=2i32,
        vec(part(), 0..3),
        metadata(),
        texts(),
        texts(),
    )
        .prop_map(
            |(
                message_id,
                context_id,
                task_id,
                role,
                parts,
                metadata,
                extensions,
                reference_task_ids,
            )| {
                Message {
                    message_id,
                    context_id,
                    task_id,
                    role,
                    parts,
                    metadata,
                    extensions,
                    reference_task_ids,
                }
            },
        )
}

fn artifact() -> impl Strategy<Value = Artifact> {
    (
        text(),
        text(),
        text(),
        vec(part(), 0..3),
        metadata(),
        texts(),
    )
        .prop_map(
            |(artifact_id, name, description, parts, metadata, extensions)| Artifact {
                artifact_id,
                name,
                description,
                parts,
                metadata,
                extensions,
            },
        )
}

fn status() -> impl Strategy<Value = TaskStatus> {
    (state(), of(message()), of(timestamp())).prop_map(|(state, message, timestamp)| TaskStatus {
        state,
        message,
        timestamp,
    })
}

pub(crate) fn task() -> impl Strategy<Value = Task> {
    (
        text(),
        text(),
        of(status()),
        vec(artifact(), 0..2),
        vec(message(), 0..2),
        metadata(),
    )
        .prop_map(
            |(id, context_id, status, artifacts, history, metadata)| Task {
                id,
                context_id,
                status,
                artifacts,
                history,
                metadata,
            },
        )
}

pub(crate) fn stream_response() -> impl Strategy<Value = StreamResponse> {
    use harbor_a2a::stream_response::Payload;
    let status_update = (text(), text(), of(status()), metadata()).prop_map(
        |(task_id, context_id, status, metadata)| TaskStatusUpdateEvent {
            task_id,
            context_id,
            status,
            metadata,
        },
    );
    let artifact_update = (
        text(),
        text(),
        of(artifact()),
        any::<bool>(),
        any::<bool>(),
        metadata(),
    )
        .prop_map(
            |(task_id, context_id, artifact, append, last_chunk, metadata)| {
                TaskArtifactUpdateEvent {
                    task_id,
                    context_id,
                    artifact,
                    append,
                    last_chunk,
                    metadata,
                }
            },
        );
    of(prop_oneof![
        task().prop_map(Payload::Task),
        message().prop_map(Payload::Message),
        status_update.prop_map(Payload::StatusUpdate),
        artifact_update.prop_map(Payload::ArtifactUpdate),
    ])
    .prop_map(|payload| StreamResponse { payload })
}

pub(crate) fn list_tasks_response() -> impl Strategy<Value = ListTasksResponse> {
    (vec(task(), 0..3), text(), any::<i32>(), any::<i32>()).prop_map(
        |(tasks, next_page_token, page_size, total_size)| ListTasksResponse {
            tasks,
            next_page_token,
            page_size,
            total_size,
        },
    )
}

fn push_config() -> impl Strategy<Value = TaskPushNotificationConfig> {
    let auth = (text(), text()).prop_map(|(scheme, credentials)| AuthenticationInfo {
        scheme,
        credentials,
    });
    (text(), text(), text(), text(), text(), of(auth)).prop_map(
        |(tenant, id, task_id, url, token, authentication)| TaskPushNotificationConfig {
            tenant,
            id,
            task_id,
            url,
            token,
            authentication,
        },
    )
}

pub(crate) fn send_message_request() -> impl Strategy<Value = SendMessageRequest> {
    let configuration = (texts(), of(push_config()), of(any::<i32>()), any::<bool>()).prop_map(
        |(
            accepted_output_modes,
            task_push_notification_config,
            history_length,
            return_immediately,
        )| {
            SendMessageConfiguration {
                accepted_output_modes,
                task_push_notification_config,
                history_length,
                return_immediately,
            }
        },
    );
    (text(), of(message()), of(configuration), metadata()).prop_map(
        |(tenant, message, configuration, metadata)| SendMessageRequest {
            tenant,
            message,
            configuration,
            metadata,
        },
    )
}

pub(crate) fn list_tasks_request() -> impl Strategy<Value = ListTasksRequest> {
    (
        text(),
        text(),
        state(),
        of(any::<i32>()),
        text(),
        of(any::<i32>()),
        of(timestamp()),
        of(any::<bool>()),
    )
        .prop_map(
            |(
                tenant,
                context_id,
                status,
                page_size,
                page_token,
                history_length,
                status_timestamp_after,
                include_artifacts,
            )| {
                ListTasksRequest {
                    tenant,
                    context_id,
                    status,
                    page_size,
                    page_token,
                    history_length,
                    status_timestamp_after,
                    include_artifacts,
                }
            },
        )
}
