//! The 11 RPCs of `lf.a2a.v1.A2AService` and their names on every binding.
//!
//! The JSON-RPC method name equals the gRPC method name (PascalCase); the gRPC path is
//! `/lf.a2a.v1.A2AService/<Rpc>`; the HTTP+JSON routes come from the spec's
//! `google.api.http` annotations. [`Method`] and its tables are generated from the one list
//! of RPCs, [`for_each_rpc!`](crate::for_each_rpc); a test checks them against the compiled
//! proto so the two cannot drift.

use std::fmt;
use std::str::FromStr;

use crate::{A2aError, ErrorKind};

/// The full name of the gRPC service.
pub const SERVICE_NAME: &str = "lf.a2a.v1.A2AService";

/// An HTTP verb used by the HTTP+JSON binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVerb {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

impl HttpVerb {
    /// The verb as written in a request line (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for HttpVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the fields of a route's request come from, besides its path parameters (and the
/// tenant, from the `/{tenant}` prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteFields {
    /// The JSON body (`body: "*"`).
    Body,
    /// Query parameters (`?historyLength=2`).
    Query,
    /// Nowhere: the path holds every field, and the query string is not read.
    PathOnly,
}

/// One HTTP+JSON route: a verb and a path template relative to the interface URL.
///
/// Templates use `{name}` for a path parameter, named as the proto field it fills
/// (`{task_id}` fills `taskId`); `{id}:cancel` is a parameter followed by a literal suffix
/// (a custom verb) in the last segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RestRoute {
    /// The HTTP verb.
    pub verb: HttpVerb,
    /// The path template, such as `/tasks/{id}:cancel`.
    pub path: &'static str,
    /// Where the request's other fields come from.
    pub fields: RouteFields,
}

impl RestRoute {
    /// The tenant-prefixed form of the path (`/{tenant}/tasks/{id}`), which every route also
    /// has; the tenant segment fills the request's `tenant` field.
    pub fn tenant_path(&self) -> String {
        format!("/{{tenant}}{}", self.path)
    }
}

/// The proto name of a reply of each kind of the RPC list.
macro_rules! proto_reply {
    (empty $resp:ident) => {
        "google.protobuf.Empty"
    };
    ($kind:ident $resp:ident) => {
        concat!("lf.a2a.v1.", stringify!($resp))
    };
}

/// Whether a kind of the RPC list streams its replies.
macro_rules! streams {
    (stream) => {
        true
    };
    ($kind:ident) => {
        false
    };
}

/// [`Method`] and its tables, from the RPC list.
macro_rules! method_table {
    ($($(#[$doc:meta])* $variant:ident $fn:ident: $kind:ident($req:ident -> $resp:ident)
        [$($verb:ident $path:literal $fields:ident),+];)*) => {
        /// One RPC of the A2A service.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Method {
            $($(#[$doc])* $variant,)*
        }

        /// How many RPCs the service has.
        const COUNT: usize = [$(stringify!($variant)),*].len();

        impl Method {
            /// All 11 RPCs, in the service's order.
            pub const ALL: [Method; COUNT] = [$(Self::$variant),*];

            /// The JSON-RPC method name, which is also the gRPC method name (`SendMessage`).
            pub fn json_rpc_name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant),)*
                }
            }

            /// The gRPC path, `/lf.a2a.v1.A2AService/<Rpc>`.
            pub fn grpc_path(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!("/lf.a2a.v1.A2AService/", stringify!($variant)),)*
                }
            }

            /// The HTTP+JSON routes of this RPC (without the `/{tenant}` prefix; see
            /// [`RestRoute::tenant_path`]). SubscribeToTask has two: POST first, then GET.
            pub fn rest_routes(self) -> &'static [RestRoute] {
                match self {
                    $(Self::$variant => &[$(RestRoute {
                        verb: HttpVerb::$verb,
                        path: $path,
                        fields: RouteFields::$fields,
                    }),+],)*
                }
            }

            /// Whether the reply is a stream of `StreamResponse` (SSE on the HTTP bindings).
            pub fn is_streaming(self) -> bool {
                match self {
                    $(Self::$variant => streams!($kind),)*
                }
            }

            /// The proto name of the request message (`lf.a2a.v1.SendMessageRequest`).
            pub fn request_type(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!("lf.a2a.v1.", stringify!($req)),)*
                }
            }

            /// The proto name of the response message (of each stream item for streaming RPCs).
            pub fn response_type(self) -> &'static str {
                match self {
                    $(Self::$variant => proto_reply!($kind $resp),)*
                }
            }
        }
    };
}

crate::for_each_rpc!(method_table);

impl Method {
    /// The gRPC method name (the same as [`Self::json_rpc_name`]).
    pub fn grpc_name(self) -> &'static str {
        self.json_rpc_name()
    }

    /// The RPC with this JSON-RPC method name. The v0.3 names (`message/send`, ...) are not
    /// v1 names and give `None`.
    pub fn from_json_rpc_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.json_rpc_name() == name)
    }

    /// The RPC with this gRPC path.
    pub fn from_grpc_path(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.grpc_path() == path)
    }
}

/// The ProtoJSON (lowerCamelCase) name of a proto field: how a path template's parameter
/// (`{task_id}`) names the request field it fills (`taskId`).
pub fn json_field_name(proto_name: &str) -> String {
    let mut out = String::with_capacity(proto_name.len());
    let mut upper = false;
    for c in proto_name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json_rpc_name())
    }
}

impl FromStr for Method {
    type Err = A2aError;

    /// Parses a JSON-RPC method name; an unknown one is a `MethodNotFound` error.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::from_json_rpc_name(name).ok_or_else(|| {
            A2aError::new(
                ErrorKind::MethodNotFound,
                format!("method {name:?} not found"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    /// The proto fields of the message `name` (`lf.a2a.v1.GetTaskRequest`).
    fn proto_fields(name: &str) -> Vec<String> {
        let fds = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET)
            .expect("descriptor decodes");
        let (package, message) = name.rsplit_once('.').expect("a full name");
        fds.file
            .iter()
            .filter(|f| f.package() == package)
            .flat_map(|f| &f.message_type)
            .find(|m| m.name() == message)
            .map(|m| m.field.iter().map(|f| f.name().to_owned()).collect())
            .unwrap_or_default()
    }

    /// POST routes take a body; the others read the query exactly when their request has
    /// fields that neither the path nor the tenant prefix fills.
    #[test]
    fn route_fields_follow_the_request_messages() {
        for method in Method::ALL {
            let fields = proto_fields(method.request_type());
            assert!(!fields.is_empty(), "{method}");
            for route in method.rest_routes() {
                assert_eq!(
                    route.verb == HttpVerb::Post,
                    route.fields == RouteFields::Body,
                    "{method} {}",
                    route.path
                );
                if route.fields == RouteFields::Body {
                    continue;
                }
                let in_path = |field: &str| route.path.contains(&format!("{{{field}}}"));
                let left = fields
                    .iter()
                    .filter(|f| *f != "tenant" && !in_path(f))
                    .count();
                let expected = if left > 0 {
                    RouteFields::Query
                } else {
                    RouteFields::PathOnly
                };
                assert_eq!(route.fields, expected, "{method} {}", route.path);
            }
        }
    }
}
