//! Size limits on what a server accepts: nesting depth, part counts, id and field lengths,
//! metadata size and push-notification URLs and secrets.
//!
//! A server checks each request against its [`Limits`] once, at the edge and the same for
//! every binding, so that nothing is accepted that cannot be stored and served back: the
//! default depth keeps every accepted value decodable by prost inside any envelope (see
//! [`nesting`](super::nesting)). A request over a limit is `InvalidParams` whose message names
//! the field, the size found and the limit (by its field name here, e.g. `max_depth`), and
//! whose ErrorInfo metadata carries `field` and `limit`. Values are never echoed back.

use pbjson_types::Struct;
use prost::Message as _;

use super::Path;
use super::nesting::{struct_depth, value_depth};
use crate::part::Content;
use crate::{
    A2aError, AuthenticationInfo, CancelTaskRequest, DeleteTaskPushNotificationConfigRequest,
    GetExtendedAgentCardRequest, GetTaskPushNotificationConfigRequest, GetTaskRequest,
    ListTaskPushNotificationConfigsRequest, ListTasksRequest, Message, Part,
    SendMessageConfiguration, SendMessageRequest, SubscribeToTaskRequest,
    TaskPushNotificationConfig,
};

/// The most [`Limits::max_depth`] may be: deeper values could nest past what prost decodes
/// back once wrapped in a stored task and a response (3 messages per object level).
pub const MAX_DEPTH_CEILING: usize = 28;

/// Size limits on requests. Data only; every field names its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of lists and objects in a `data` part or a `metadata` object (an
    /// object or list counts 1, each one inside it one more). Default 24; at most
    /// [`MAX_DEPTH_CEILING`].
    pub max_depth: usize,
    /// Parts in one message. Default 256.
    pub max_parts: usize,
    /// Bytes in an id: task, context, message and push-config ids, reference task ids.
    /// Default 256.
    pub max_id_bytes: usize,
    /// Bytes in a short field: tenant, page token, media type, file name, extension URI,
    /// output mode, authentication scheme. Default 2048.
    pub max_field_bytes: usize,
    /// Entries in a list of ids or URIs (`referenceTaskIds`, `extensions`,
    /// `acceptedOutputModes`). Default 64.
    pub max_list_items: usize,
    /// Bytes of one `metadata` object in its protobuf encoding. Default 64 KiB.
    pub max_metadata_bytes: usize,
    /// Bytes in a push-notification URL. Default 2048.
    pub max_url_bytes: usize,
    /// Bytes in a push-notification token or authentication credentials. Default 4096.
    pub max_secret_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 24,
            max_parts: 256,
            max_id_bytes: 256,
            max_field_bytes: 2048,
            max_list_items: 64,
            max_metadata_bytes: 64 * 1024,
            max_url_bytes: 2048,
            max_secret_bytes: 4096,
        }
    }
}

impl Limits {
    /// Checks the limits themselves: `max_depth` within [`MAX_DEPTH_CEILING`].
    ///
    /// # Errors
    /// `InvalidParams` naming the setting.
    pub fn check(&self) -> Result<(), A2aError> {
        if self.max_depth > MAX_DEPTH_CEILING {
            return Err(A2aError::invalid_params(format!(
                "limits.max_depth {} is more than {MAX_DEPTH_CEILING}, past what can be stored and decoded back",
                self.max_depth
            )));
        }
        Ok(())
    }
}

/// Checks a request against [`Limits`].
///
/// ```
/// use harbor_a2a::validate::{CheckLimits, Limits};
/// use harbor_a2a::{GetTaskRequest, ErrorKind};
///
/// let request = GetTaskRequest { id: "x".repeat(300), ..Default::default() };
/// let err = request.check_limits(&Limits::default()).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidParams);
/// assert_eq!(err.message(), "id: 300 bytes, more than the limit of 256 (max_id_bytes)");
/// ```
pub trait CheckLimits {
    /// Returns the first limit this request exceeds, as `InvalidParams` naming the field
    /// and the limit.
    ///
    /// # Errors
    /// `InvalidParams` when a limit is exceeded.
    fn check_limits(&self, limits: &Limits) -> Result<(), A2aError>;
}

/// An `InvalidParams` error for a value at `at` over the limit `name`.
fn over(at: &Path<'_>, found: String, limit: usize, name: &'static str) -> A2aError {
    at.error(format!("{found}, more than the limit of {limit} ({name})"))
        .with_metadata("limit", name)
}

struct Checker<'l> {
    limits: &'l Limits,
}

impl Checker<'_> {
    fn bytes(
        &self,
        at: &Path<'_>,
        field: &'static str,
        value: &str,
        limit: usize,
        name: &'static str,
    ) -> Result<(), A2aError> {
        if value.len() > limit {
            return Err(over(
                &at.field(field),
                format!("{} bytes", value.len()),
                limit,
                name,
            ));
        }
        Ok(())
    }

    fn id(&self, at: &Path<'_>, field: &'static str, value: &str) -> Result<(), A2aError> {
        self.bytes(at, field, value, self.limits.max_id_bytes, "max_id_bytes")
    }

    fn short(&self, at: &Path<'_>, field: &'static str, value: &str) -> Result<(), A2aError> {
        self.bytes(
            at,
            field,
            value,
            self.limits.max_field_bytes,
            "max_field_bytes",
        )
    }

    fn secret(&self, at: &Path<'_>, field: &'static str, value: &str) -> Result<(), A2aError> {
        self.bytes(
            at,
            field,
            value,
            self.limits.max_secret_bytes,
            "max_secret_bytes",
        )
    }

    /// A list of short strings (or ids, when `ids`).
    fn list(
        &self,
        at: &Path<'_>,
        field: &'static str,
        items: &[String],
        ids: bool,
    ) -> Result<(), A2aError> {
        let here = at.field(field);
        if items.len() > self.limits.max_list_items {
            return Err(over(
                &here,
                format!("{} entries", items.len()),
                self.limits.max_list_items,
                "max_list_items",
            ));
        }
        let (limit, name) = if ids {
            (self.limits.max_id_bytes, "max_id_bytes")
        } else {
            (self.limits.max_field_bytes, "max_field_bytes")
        };
        for (i, item) in items.iter().enumerate() {
            if item.len() > limit {
                return Err(over(
                    &here.index(i),
                    format!("{} bytes", item.len()),
                    limit,
                    name,
                ));
            }
        }
        Ok(())
    }

    fn metadata(
        &self,
        at: &Path<'_>,
        field: &'static str,
        metadata: Option<&Struct>,
    ) -> Result<(), A2aError> {
        let Some(metadata) = metadata else {
            return Ok(());
        };
        let here = at.field(field);
        let size = metadata.encoded_len();
        if size > self.limits.max_metadata_bytes {
            return Err(over(
                &here,
                format!("{size} bytes"),
                self.limits.max_metadata_bytes,
                "max_metadata_bytes",
            ));
        }
        self.depth(&here, struct_depth(metadata))
    }

    fn depth(&self, at: &Path<'_>, depth: usize) -> Result<(), A2aError> {
        if depth > self.limits.max_depth {
            return Err(over(
                at,
                format!("nests {depth} levels deep"),
                self.limits.max_depth,
                "max_depth",
            ));
        }
        Ok(())
    }

    fn message(&self, at: &Path<'_>, message: &Message) -> Result<(), A2aError> {
        self.id(at, "messageId", &message.message_id)?;
        self.id(at, "contextId", &message.context_id)?;
        self.id(at, "taskId", &message.task_id)?;
        if message.parts.len() > self.limits.max_parts {
            return Err(over(
                &at.field("parts"),
                format!("{} parts", message.parts.len()),
                self.limits.max_parts,
                "max_parts",
            ));
        }
        let parts = at.field("parts");
        for (i, part) in message.parts.iter().enumerate() {
            self.part(&parts.index(i), part)?;
        }
        self.metadata(at, "metadata", message.metadata.as_ref())?;
        self.list(at, "extensions", &message.extensions, false)?;
        self.list(at, "referenceTaskIds", &message.reference_task_ids, true)
    }

    fn part(&self, at: &Path<'_>, part: &Part) -> Result<(), A2aError> {
        if let Some(Content::Data(value)) = &part.content {
            self.depth(&at.field("data"), value_depth(value))?;
        }
        self.metadata(at, "metadata", part.metadata.as_ref())?;
        self.short(at, "filename", &part.filename)?;
        self.short(at, "mediaType", &part.media_type)
    }

    fn configuration(
        &self,
        at: &Path<'_>,
        configuration: &SendMessageConfiguration,
    ) -> Result<(), A2aError> {
        self.list(
            at,
            "acceptedOutputModes",
            &configuration.accepted_output_modes,
            false,
        )?;
        match &configuration.task_push_notification_config {
            Some(push) => self.push(&at.field("taskPushNotificationConfig"), push),
            None => Ok(()),
        }
    }

    fn push(&self, at: &Path<'_>, config: &TaskPushNotificationConfig) -> Result<(), A2aError> {
        self.short(at, "tenant", &config.tenant)?;
        self.id(at, "id", &config.id)?;
        self.id(at, "taskId", &config.task_id)?;
        self.bytes(
            at,
            "url",
            &config.url,
            self.limits.max_url_bytes,
            "max_url_bytes",
        )?;
        self.secret(at, "token", &config.token)?;
        match &config.authentication {
            Some(auth) => self.authentication(&at.field("authentication"), auth),
            None => Ok(()),
        }
    }

    fn authentication(&self, at: &Path<'_>, auth: &AuthenticationInfo) -> Result<(), A2aError> {
        self.short(at, "scheme", &auth.scheme)?;
        self.secret(at, "credentials", &auth.credentials)
    }
}

/// Implements [`CheckLimits`] by handing a [`Checker`] and the root path to a closure.
macro_rules! check_limits {
    ($($ty:ty => |$c:ident, $at:ident, $req:ident| $body:expr;)*) => {
        $(
            impl CheckLimits for $ty {
                fn check_limits(&self, limits: &Limits) -> Result<(), A2aError> {
                    let $c = Checker { limits };
                    let $at = Path::root("");
                    let $req = self;
                    $body
                }
            }
        )*
    };
}

check_limits! {
    SendMessageRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        if let Some(message) = &req.message {
            c.message(&at.field("message"), message)?;
        }
        if let Some(configuration) = &req.configuration {
            c.configuration(&at.field("configuration"), configuration)?;
        }
        c.metadata(&at, "metadata", req.metadata.as_ref())
    };
    GetTaskRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "id", &req.id)
    };
    ListTasksRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "contextId", &req.context_id)?;
        c.short(&at, "pageToken", &req.page_token)
    };
    CancelTaskRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "id", &req.id)?;
        c.metadata(&at, "metadata", req.metadata.as_ref())
    };
    SubscribeToTaskRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "id", &req.id)
    };
    TaskPushNotificationConfig => |c, at, req| c.push(&at, req);
    GetTaskPushNotificationConfigRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "taskId", &req.task_id)?;
        c.id(&at, "id", &req.id)
    };
    DeleteTaskPushNotificationConfigRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "taskId", &req.task_id)?;
        c.id(&at, "id", &req.id)
    };
    ListTaskPushNotificationConfigsRequest => |c, at, req| {
        c.short(&at, "tenant", &req.tenant)?;
        c.id(&at, "taskId", &req.task_id)?;
        c.short(&at, "pageToken", &req.page_token)
    };
    GetExtendedAgentCardRequest => |c, at, req| c.short(&at, "tenant", &req.tenant);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::json_to_struct;
    use crate::{Role, from_json};

    fn send(data: serde_json::Value) -> SendMessageRequest {
        SendMessageRequest {
            message: Some(Message {
                message_id: "m".into(),
                role: Role::User as i32,
                parts: vec![Part::data(data)],
                ..Message::default()
            }),
            ..SendMessageRequest::default()
        }
    }

    fn nested(depth: usize) -> serde_json::Value {
        (0..depth).fold(serde_json::json!("x"), |inner, _| {
            serde_json::json!([inner])
        })
    }

    #[test]
    fn data_deeper_than_the_limit_is_refused_naming_it() {
        let limits = Limits::default();
        assert_eq!(send(nested(24)).check_limits(&limits), Ok(()));
        let err = send(nested(25))
            .check_limits(&limits)
            .expect_err("too deep");
        assert_eq!(
            err.message(),
            "message.parts[0].data: nests 25 levels deep, more than the limit of 24 (max_depth)"
        );
        assert_eq!(err.metadata()["limit"], "max_depth");
        assert_eq!(err.metadata()["field"], "message.parts[0].data");
    }

    #[test]
    fn every_accepted_depth_decodes_back_inside_a_task_and_a_stream_event() {
        use crate::validate::nesting::{PROST_RECURSION_LIMIT, task_nesting};
        let depth = MAX_DEPTH_CEILING;
        let objects = (0..depth - 1).fold(
            serde_json::json!({"k": 1}),
            |inner, _| serde_json::json!({"k": inner}),
        );
        let mut request = send(objects.clone());
        let metadata = json_to_struct(serde_json::from_value(objects).expect("object"));
        let message = request.message.as_mut().expect("message");
        message.parts[0].metadata = Some(metadata.clone());
        message.metadata = Some(metadata);
        let limits = Limits {
            max_depth: depth,
            max_metadata_bytes: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(request.check_limits(&limits), Ok(()));
        // The deepest place a message goes: a status message of a task in a stream event.
        let task = crate::Task {
            id: "t".into(),
            status: Some(crate::TaskStatus {
                message: request.message.clone(),
                ..crate::TaskStatus::default()
            }),
            ..crate::Task::default()
        };
        assert!(
            task_nesting(&task) + 4 <= PROST_RECURSION_LIMIT,
            "{}",
            task_nesting(&task)
        );
    }

    #[test]
    fn ids_lists_metadata_and_parts_are_bounded() {
        let limits = Limits {
            max_parts: 2,
            max_list_items: 1,
            max_metadata_bytes: 16,
            ..Limits::default()
        };
        let request: SendMessageRequest = from_json(
            r#"{"message": {"messageId": "m", "role": "ROLE_USER",
                "parts": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}}"#,
        )
        .expect("parses");
        let err = request.check_limits(&limits).expect_err("parts");
        assert_eq!(
            err.message(),
            "message.parts: 3 parts, more than the limit of 2 (max_parts)"
        );

        let request: SendMessageRequest = from_json(
            r#"{"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "a"}],
                "referenceTaskIds": ["a", "b"]}}"#,
        )
        .expect("parses");
        let err = request.check_limits(&limits).expect_err("list");
        assert_eq!(err.metadata()["limit"], "max_list_items");

        let request: SendMessageRequest = from_json(
            r#"{"message": {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "a"}]},
                "metadata": {"key": "a value longer than sixteen bytes"}}"#,
        )
        .expect("parses");
        let err = request.check_limits(&limits).expect_err("metadata");
        assert_eq!(err.metadata()["field"], "metadata");
        assert_eq!(err.metadata()["limit"], "max_metadata_bytes");
    }

    #[test]
    fn long_values_are_not_echoed() {
        let id = "y".repeat(1 << 20);
        let err = GetTaskRequest {
            id: id.clone(),
            ..GetTaskRequest::default()
        }
        .check_limits(&Limits::default())
        .expect_err("too long");
        assert!(!err.message().contains("yyy"), "{}", err.message());
        assert!(err.metadata().values().all(|v| !v.contains("yyy")));
    }

    #[test]
    fn push_urls_and_secrets_are_bounded() {
        let config = TaskPushNotificationConfig {
            url: format!("https://example.com/{}", "a".repeat(3000)),
            ..TaskPushNotificationConfig::default()
        };
        let err = config.check_limits(&Limits::default()).expect_err("url");
        assert_eq!(err.metadata()["limit"], "max_url_bytes");
        let config = TaskPushNotificationConfig {
            url: "https://example.com/".into(),
            authentication: Some(AuthenticationInfo {
                scheme: "Bearer".into(),
                credentials: "c".repeat(5000),
            }),
            ..TaskPushNotificationConfig::default()
        };
        let err = config.check_limits(&Limits::default()).expect_err("secret");
        assert_eq!(err.metadata()["field"], "authentication.credentials");
    }

    #[test]
    fn the_ceiling_is_enforced() {
        let limits = Limits {
            max_depth: MAX_DEPTH_CEILING + 1,
            ..Limits::default()
        };
        assert!(limits.check().is_err());
        assert_eq!(Limits::default().check(), Ok(()));
    }
}
