//! The publish path: an envelope stored durably (the stream's PubAck awaited), and the
//! dead letters the subscriptions publish.

use async_nats::HeaderMap;
use async_nats::client::Request;
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::response::Response;
use harbor_distributed::bus::dead_letter;
use harbor_distributed::frame;
use harbor_distributed::kit::Phase;
use harbor_distributed::{Envelope, Error, PublishReceipt};

use crate::core::Core;
use crate::errors;
use crate::layout;

impl Core {
    /// Stores `envelope` durably: returns once the stream acknowledged it. `force` is for
    /// dead letters, still published while the bus drains.
    pub(crate) async fn store(
        &self,
        envelope: &Envelope,
        force: bool,
    ) -> Result<PublishReceipt, Error> {
        let phase = self.life.phase();
        if phase == Phase::Closed || (phase == Phase::Draining && !force) {
            return Err(Error::Closed);
        }
        envelope.check_publishable(self.max_payload)?;
        let body = frame::encode(envelope);
        if body.len() + 256 > self.server_max {
            return Err(Error::InvalidEnvelope(format!(
                "the envelope's fields and payload take {} bytes; the server takes at most {}",
                body.len(),
                self.server_max
            )));
        }
        let id = layout::message_id(envelope);
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", id.as_str());
        let request = Request::new()
            .headers(headers)
            .payload(body)
            .timeout(Some(self.config.publish_timeout));
        let answer = self
            .client
            .send_request(self.layout.subject(envelope), request)
            .await
            .map_err(errors::request)?;
        match serde_json::from_slice::<Response<PublishAck>>(&answer.payload) {
            Ok(Response::Ok(ack)) => Ok(PublishReceipt {
                sequence: Some(ack.sequence),
                duplicate: ack.duplicate,
            }),
            Ok(Response::Err { error }) => Err(errors::jetstream(error)),
            Err(error) => Err(errors::backend(
                false,
                format!("the server answered a publish with something else than a PubAck: {error}"),
            )),
        }
    }

    /// Publishes the dead letter of `envelope` from `group`.
    pub(crate) async fn dead_letter(
        &self,
        envelope: &Envelope,
        group: &str,
        attempts: u32,
        reason: &str,
    ) -> Result<(), Error> {
        tracing::debug!(group, edge = %envelope.edge, attempts, reason, "dead-lettering");
        let letter = dead_letter::envelope(envelope.clone(), group, attempts, reason);
        self.store(&letter, true).await.map(|_| ())
    }
}
