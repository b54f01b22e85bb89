//! Compiles `proto/lf/a2a/v1/a2a.proto` in pure Rust: protox parses it (no `protoc`),
//! prost generates the types, pbjson their ProtoJSON serde impls, and tonic the
//! service stubs when the `grpc` feature is on.

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
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
        .compile_fds(fds)?;

    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .ignore_unknown_fields()
        .build(&[".lf.a2a.v1"])?;
    Ok(())
}
