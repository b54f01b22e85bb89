//! Compiles `proto/lf/a2a/v1/a2a.proto` in pure Rust: protox parses it (no `protoc`),
//! prost generates the types, pbjson their ProtoJSON serde impls, and tonic the
//! service stubs when the `grpc` feature is on.
//!
//! Two corrections to pbjson's output, both checked against the descriptor so that a change
//! in pbjson fails the build instead of silently undoing them:
//! - the messages in [`HAND_WRITTEN`] get no generated serde (see `src/json/`);
//! - every `google.protobuf.Struct` field is read and written through `crate::json`'s
//!   wrappers, because pbjson-types reads a JSON `null` inside a Struct as a `Value` with no
//!   kind and writes whole numbers as `1.0`.

use std::collections::BTreeMap;
use std::path::Path;

use prost::Message as _;
use prost_types::FileDescriptorSet;

/// Messages whose ProtoJSON lives in `src/json/` instead of pbjson's generated code.
const HAND_WRITTEN: [&str; 8] = [
    ".lf.a2a.v1.ListTasksRequest",
    ".lf.a2a.v1.ListTasksResponse",
    ".lf.a2a.v1.TaskStatus",
    ".lf.a2a.v1.Part",
    ".lf.a2a.v1.AgentCard",
    ".lf.a2a.v1.AuthorizationCodeOAuthFlow",
    ".lf.a2a.v1.ClientCredentialsOAuthFlow",
    ".lf.a2a.v1.DeviceCodeOAuthFlow",
];

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    const PROTO: &str = "proto/lf/a2a/v1/a2a.proto";
    println!("cargo:rerun-if-changed={PROTO}");

    let fds = protox::compile([PROTO], ["proto"])?;
    let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor_bytes = fds.encode_to_vec();
    std::fs::write(out_dir.join("a2a_descriptor.bin"), &descriptor_bytes)?;

    let grpc = std::env::var_os("CARGO_FEATURE_GRPC").is_some();
    tonic_prost_build::configure()
        .build_client(grpc)
        .build_server(grpc)
        // Well-known types come from pbjson-types, which carries their ProtoJSON forms.
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        // Maps in key order: a message writes the same JSON and the same bytes every time
        // (a HashMap's order changes from run to run; the fuzzer found a card whose JSON did).
        .btree_map(".")
        // Undecodable requests are INVALID_ARGUMENT, not tonic's INTERNAL (src/grpc_codec.rs).
        .codec_path("crate::grpc_codec::A2aCodec")
        // These carry webhook credentials: their Debug, written in `src/redact.rs`, hides them.
        .skip_debug([
            ".lf.a2a.v1.AuthenticationInfo",
            ".lf.a2a.v1.TaskPushNotificationConfig",
        ])
        .compile_fds(fds.clone())?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .ignore_unknown_fields()
        .btree_map(["."])
        // These get hand-written serde in `src/json/`: pbjson drops REQUIRED fields that hold
        // a default value, writes timestamps with a `+00:00` offset and reads `"data": null`
        // as an unset Part.
        .exclude(HAND_WRITTEN)
        .build(&[".lf.a2a.v1"])?;

    patch_struct_fields(&fds, &out_dir.join("lf.a2a.v1.serde.rs"))
}

/// Routes every generated `Struct` field through `crate::json::{StructJson, StructIn}`.
fn patch_struct_fields(fds: &FileDescriptorSet, serde_file: &Path) -> Result<(), BoxError> {
    // (proto field name, JSON name) -> how many generated messages have such a Struct field.
    let mut fields: BTreeMap<(String, String), usize> = BTreeMap::new();
    for file in fds.file.iter().filter(|f| f.package() == "lf.a2a.v1") {
        for message in &file.message_type {
            if HAND_WRITTEN.contains(&format!(".lf.a2a.v1.{}", message.name()).as_str()) {
                continue;
            }
            for field in &message.field {
                if field.type_name() == ".google.protobuf.Struct" {
                    let key = (field.name().to_owned(), field.json_name().to_owned());
                    *fields.entry(key).or_default() += 1;
                }
            }
        }
    }

    let mut code = std::fs::read_to_string(serde_file)?;
    for ((name, json), count) in fields {
        let rewrites = [
            (
                format!("struct_ser.serialize_field(\"{json}\", v)?;"),
                format!("struct_ser.serialize_field(\"{json}\", &crate::json::StructJson(v))?;"),
            ),
            (
                format!("{name}__ = map_.next_value()?;"),
                format!(
                    "{name}__ = map_.next_value::<::std::option::Option<crate::json::StructIn>>()?.map(|s| s.0);"
                ),
            ),
        ];
        for (from, to) in rewrites {
            let found = code.matches(&from).count();
            if found != count {
                return Err(format!(
                    "pbjson's output changed: expected {count} occurrence(s) of `{from}` for the \
                     Struct field `{name}`, found {found}; update patch_struct_fields in build.rs"
                )
                .into());
            }
            code = code.replace(&from, &to);
        }
    }
    std::fs::write(serde_file, code)?;
    Ok(())
}
