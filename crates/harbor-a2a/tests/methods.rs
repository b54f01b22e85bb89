//! The method table, pinned literally, and checked against the compiled proto.

use harbor_a2a::methods::SERVICE_NAME;
use harbor_a2a::{ErrorKind, FILE_DESCRIPTOR_SET, HttpVerb, Method};
use prost::Message as _;
use prost_types::FileDescriptorSet;

use HttpVerb::{Delete, Get, Post};

/// (method, JSON-RPC name, gRPC path, REST routes, streaming), written out by hand from the
/// spec so that a change to the table has to change this test too.
#[allow(clippy::type_complexity)]
const PINNED: [(Method, &str, &str, &[(HttpVerb, &str)], bool); 11] = [
    (
        Method::SendMessage,
        "SendMessage",
        "/lf.a2a.v1.A2AService/SendMessage",
        &[(Post, "/message:send")],
        false,
    ),
    (
        Method::SendStreamingMessage,
        "SendStreamingMessage",
        "/lf.a2a.v1.A2AService/SendStreamingMessage",
        &[(Post, "/message:stream")],
        true,
    ),
    (
        Method::GetTask,
        "GetTask",
        "/lf.a2a.v1.A2AService/GetTask",
        &[(Get, "/tasks/{id}")],
        false,
    ),
    (
        Method::ListTasks,
        "ListTasks",
        "/lf.a2a.v1.A2AService/ListTasks",
        &[(Get, "/tasks")],
        false,
    ),
    (
        Method::CancelTask,
        "CancelTask",
        "/lf.a2a.v1.A2AService/CancelTask",
        &[(Post, "/tasks/{id}:cancel")],
        false,
    ),
    (
        Method::SubscribeToTask,
        "SubscribeToTask",
        "/lf.a2a.v1.A2AService/SubscribeToTask",
        &[
            (Post, "/tasks/{id}:subscribe"),
            (Get, "/tasks/{id}:subscribe"),
        ],
        true,
    ),
    (
        Method::CreateTaskPushNotificationConfig,
        "CreateTaskPushNotificationConfig",
        "/lf.a2a.v1.A2AService/CreateTaskPushNotificationConfig",
        &[(Post, "/tasks/{task_id}/pushNotificationConfigs")],
        false,
    ),
    (
        Method::GetTaskPushNotificationConfig,
        "GetTaskPushNotificationConfig",
        "/lf.a2a.v1.A2AService/GetTaskPushNotificationConfig",
        &[(Get, "/tasks/{task_id}/pushNotificationConfigs/{id}")],
        false,
    ),
    (
        Method::ListTaskPushNotificationConfigs,
        "ListTaskPushNotificationConfigs",
        "/lf.a2a.v1.A2AService/ListTaskPushNotificationConfigs",
        &[(Get, "/tasks/{task_id}/pushNotificationConfigs")],
        false,
    ),
    (
        Method::GetExtendedAgentCard,
        "GetExtendedAgentCard",
        "/lf.a2a.v1.A2AService/GetExtendedAgentCard",
        &[(Get, "/extendedAgentCard")],
        false,
    ),
    (
        Method::DeleteTaskPushNotificationConfig,
        "DeleteTaskPushNotificationConfig",
        "/lf.a2a.v1.A2AService/DeleteTaskPushNotificationConfig",
        &[(Delete, "/tasks/{task_id}/pushNotificationConfigs/{id}")],
        false,
    ),
];

#[test]
fn all_lists_the_eleven_methods_in_service_order() {
    let pinned: Vec<Method> = PINNED.iter().map(|p| p.0).collect();
    assert_eq!(Method::ALL.to_vec(), pinned);
}

#[test]
fn names_paths_and_routes_are_pinned() {
    for (method, name, path, routes, streaming) in PINNED {
        assert_eq!(method.json_rpc_name(), name);
        assert_eq!(method.grpc_name(), name);
        assert_eq!(method.to_string(), name);
        assert_eq!(method.grpc_path(), path);
        assert_eq!(method.is_streaming(), streaming, "{name}");
        let actual: Vec<(HttpVerb, &str)> = method
            .rest_routes()
            .iter()
            .map(|r| (r.verb, r.path))
            .collect();
        assert_eq!(actual, routes.to_vec(), "{name}");
        assert_eq!(Method::from_json_rpc_name(name), Some(method));
        assert_eq!(name.parse::<Method>().ok(), Some(method));
        assert_eq!(Method::from_grpc_path(path), Some(method));
    }
}

#[test]
fn every_route_has_a_tenant_form() {
    let route = Method::GetTask.rest_routes()[0];
    assert_eq!(route.tenant_path(), "/{tenant}/tasks/{id}");
    for method in Method::ALL {
        for route in method.rest_routes() {
            assert_eq!(route.tenant_path(), format!("/{{tenant}}{}", route.path));
        }
    }
    assert_eq!(Delete.as_str(), "DELETE");
}

#[test]
fn v03_and_unknown_names_are_not_methods() {
    for name in ["message/send", "tasks/get", "sendMessage", ""] {
        assert_eq!(Method::from_json_rpc_name(name), None, "{name}");
        let err = name.parse::<Method>().expect_err("unknown");
        assert_eq!(err.kind(), ErrorKind::MethodNotFound);
    }
}

#[test]
fn the_table_matches_the_service_in_the_compiled_proto() {
    let fds = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("descriptor decodes");
    let file = fds
        .file
        .iter()
        .find(|f| f.package() == "lf.a2a.v1")
        .expect("the a2a file");
    let service = file
        .service
        .iter()
        .find(|s| format!("{}.{}", file.package(), s.name()) == SERVICE_NAME)
        .expect("the service");
    assert_eq!(service.method.len(), Method::ALL.len());
    for (rpc, method) in service.method.iter().zip(Method::ALL) {
        assert_eq!(
            format!("/{SERVICE_NAME}/{}", rpc.name()),
            method.grpc_path()
        );
        assert_eq!(rpc.name(), method.json_rpc_name());
        assert_eq!(
            rpc.server_streaming(),
            method.is_streaming(),
            "{}",
            rpc.name()
        );
        assert_eq!(rpc.input_type(), format!(".{}", method.request_type()));
        assert_eq!(rpc.output_type(), format!(".{}", method.response_type()));
    }
}
