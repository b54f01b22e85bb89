//! The gRPC rows of `harbor bench a2a`: the same `SendMessage` and `SendStreamingMessage`
//! calls as the JSON rows, on a tonic channel (one HTTP/2 connection per row that the
//! workers' calls share, as gRPC clients do), judged on the decoded messages.

use std::time::{Duration, Instant};

use harbor_a2a::pb::a2a_service_client::A2aServiceClient;
use harbor_a2a::{
    Message, Part, SendMessageRequest, TaskState, send_message_response, stream_response,
};
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};

use super::endpoint::{Mode, Sample};

/// Largest response message a bench call accepts.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// A client of one gRPC interface.
pub(super) type GrpcClient = A2aServiceClient<Channel>;

/// A lazily connected client of the interface at `url` (`host:port` as cards write it, or
/// an `http://` URL).
pub(super) fn client(url: &str, timeout: Duration) -> anyhow::Result<GrpcClient> {
    let url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let channel = Endpoint::from_shared(url)?
        .tcp_nodelay(true)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .connect_lazy();
    Ok(A2aServiceClient::new(channel).max_decoding_message_size(MAX_MESSAGE_BYTES))
}

/// One call of `mode` with a message `message_id`; a failure comes back as its reason.
pub(super) async fn call(
    client: &GrpcClient,
    mode: Mode,
    tenant: &str,
    message_id: String,
    timeout: Duration,
) -> Result<Sample, String> {
    let mut request = tonic::Request::new(SendMessageRequest {
        tenant: tenant.to_owned(),
        message: Some(Message::user(message_id, [Part::text("bench")])),
        ..SendMessageRequest::default()
    });
    request
        .metadata_mut()
        .insert("a2a-version", MetadataValue::from_static("1.0"));
    let mut client = client.clone();
    let start = Instant::now();
    let run = async {
        match mode {
            Mode::Send => {
                let reply = client.send_message(request).await.map_err(describe)?;
                let latency = start.elapsed();
                check_send(reply.into_inner().payload)?;
                Ok(Sample {
                    latency,
                    first_event: None,
                    events: 0,
                })
            }
            Mode::Stream => read_stream(&mut client, request, start).await,
        }
    };
    tokio::time::timeout(timeout, run)
        .await
        .unwrap_or_else(|_| Err(format!("no complete answer within {timeout:?}")))
}

async fn read_stream(
    client: &mut GrpcClient,
    request: tonic::Request<SendMessageRequest>,
    start: Instant,
) -> Result<Sample, String> {
    let mut stream = client
        .send_streaming_message(request)
        .await
        .map_err(describe)?
        .into_inner();
    let mut first_event = None;
    let mut events = 0;
    let mut last_state = None;
    let mut message = false;
    while let Some(event) = stream.message().await.map_err(describe)? {
        first_event.get_or_insert_with(|| start.elapsed());
        events += 1;
        match event.payload {
            Some(stream_response::Payload::Message(_)) => message = true,
            Some(stream_response::Payload::ArtifactUpdate(_)) => {}
            Some(_) => last_state = event_state(&event.payload),
            None => return Err("an event without a StreamResponse payload".into()),
        }
    }
    let latency = start.elapsed();
    match last_state {
        _ if message => {}
        Some(TaskState::Completed) => {}
        Some(state) => return Err(format!("the stream ended {}", state.as_str_name())),
        None => return Err("the stream closed without a task state".into()),
    }
    Ok(Sample {
        latency,
        first_event,
        events,
    })
}

fn event_state(payload: &Option<stream_response::Payload>) -> Option<TaskState> {
    match payload {
        Some(stream_response::Payload::Task(task)) => Some(task.state()),
        Some(stream_response::Payload::StatusUpdate(update)) => {
            update.status.as_ref().map(harbor_a2a::TaskStatus::state)
        }
        _ => None,
    }
}

/// A blocking reply: a COMPLETED task or a direct message is a success.
fn check_send(payload: Option<send_message_response::Payload>) -> Result<(), String> {
    match payload {
        Some(send_message_response::Payload::Message(_)) => Ok(()),
        Some(send_message_response::Payload::Task(task)) => match task.state() {
            TaskState::Completed => Ok(()),
            other => Err(format!("the task ended {}", other.as_str_name())),
        },
        None => Err("neither task nor message".into()),
    }
}

/// A status as the failure's reason.
fn describe(status: tonic::Status) -> String {
    format!("gRPC {:?}: {}", status.code(), status.message())
}

#[cfg(test)]
mod tests {
    use harbor_a2a::{Task, TaskStatus};

    use super::*;

    #[test]
    fn only_completed_tasks_and_messages_pass() {
        let task = |state| {
            Some(send_message_response::Payload::Task(Task::new(
                "t",
                "c",
                TaskStatus::now(state),
            )))
        };
        assert!(check_send(task(TaskState::Completed)).is_ok());
        assert!(check_send(task(TaskState::Failed)).is_err());
        assert!(check_send(None).is_err());
    }
}
