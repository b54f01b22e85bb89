//! Signed agent cards: `harbor serve --sign-card-key` signs (ES256, EdDSA), `harbor card
//! --verify` checks against trusted keys, and the official Python SDK (a2a-sdk 1.3.0)
//! verifies a card we signed while we verify one it signed.
//!
//! The interop half needs `HARBOR_INTEROP_PYTHON` (a venv from
//! `interop/python/requirements.txt`, which `.ci/run` makes); without it, it says so and
//! passes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use harbor_a2a::AgentCard;
use harbor_client::TrustedKeys;

mod support;

use support::run::run;
use support::serve::Server;

const PYTHON_ENV: &str = "HARBOR_INTEROP_PYTHON";

/// (private PKCS#8 PEM, public PEM) of a new key of `alg`.
fn key_pair(alg: &'static rcgen::SignatureAlgorithm) -> (String, String) {
    let pair = rcgen::KeyPair::generate_for(alg).expect("key");
    (pair.serialize_pem(), pair.public_key_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

fn signed_server(dir: &Path, private: &str, kid: &str) -> Server {
    let key = write(dir, &format!("{kid}.key"), private);
    Server::start(&["--sign-card-key", &key, "--sign-card-kid", kid])
}

#[test]
fn served_cards_are_signed_and_verify_with_the_right_key_only() {
    let dir = tempfile::tempdir().expect("dir");
    for (alg, name, kid) in [
        (&rcgen::PKCS_ECDSA_P256_SHA256, "ES256", "ec-1"),
        (&rcgen::PKCS_ED25519, "EdDSA", "ed-1"),
    ] {
        let (private, public) = key_pair(alg);
        let server = signed_server(dir.path(), &private, kid);
        let trusted = write(dir.path(), &format!("{kid}.pub"), &public);
        let out = run(&["card", &server.base_url, "--verify", "--card-key", &trusted])
            .ok("card --verify");
        assert!(
            out.stdout
                .contains(&format!("signature   verified ({name}, key {kid})")),
            "{}",
            out.stdout
        );
        let json = run(&["card", &server.base_url, "--json"]).ok("card --json");
        let card: AgentCard = harbor_a2a::from_json(&json.stdout).expect("card");
        assert_eq!(card.signatures.len(), 1);
        let keys = TrustedKeys::from_texts([public.as_str()]).expect("key");
        assert_eq!(
            keys.verify(&card).expect("verifies").key_id.as_deref(),
            Some(kid)
        );
        // The same card with one field changed no longer verifies.
        let mut tampered = card.clone();
        tampered.description.push('!');
        assert!(keys.verify(&tampered).is_err());

        let (_, stranger) = key_pair(alg);
        let wrong = write(dir.path(), &format!("{kid}.wrong"), &stranger);
        let out = run(&["card", &server.base_url, "--verify", "--card-key", &wrong]);
        assert_eq!(out.code, Some(4), "{}", out.stderr);
        assert!(
            out.stderr.contains("no signature of the card verifies"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn unsigned_cards_pass_verify_if_signed_and_fail_require() {
    let dir = tempfile::tempdir().expect("dir");
    let server = Server::start(&[]);
    let (_, public) = key_pair(&rcgen::PKCS_ECDSA_P256_SHA256);
    let trusted = write(dir.path(), "k.pub", &public);
    let out =
        run(&["card", &server.base_url, "--verify", "--card-key", &trusted]).ok("card --verify");
    assert!(out.stdout.contains("signature   none"), "{}", out.stdout);
    let out = run(&[
        "card",
        &server.base_url,
        "--verify",
        "--card-key",
        &trusted,
        "--require-signature",
    ]);
    assert_eq!(out.code, Some(4), "{}", out.stderr);
    assert!(out.stderr.contains("not signed"), "{}", out.stderr);
}

fn python() -> Option<std::ffi::OsString> {
    let python = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty());
    if python.is_none() {
        eprintln!(
            "skipping the Python SDK card-signing interop: {PYTHON_ENV} is not set; .ci/run \
             sets it (to a venv made from interop/python/requirements.txt)"
        );
    }
    python
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop/python/card_signatures.py")
}

fn python_run(python: &std::ffi::OsStr, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(python)
        .arg(script())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python:?} (from {PYTHON_ENV}): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_python_sdk_verifies_a_card_harbor_signed() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().expect("dir");
    for (alg, name) in [
        (&rcgen::PKCS_ECDSA_P256_SHA256, "ES256"),
        (&rcgen::PKCS_ED25519, "EdDSA"),
    ] {
        let (private, public) = key_pair(alg);
        let server = signed_server(dir.path(), &private, "harbor-1");
        let trusted = write(dir.path(), "harbor.pub", &public);
        let card_url = format!("{}/.well-known/agent-card.json", server.base_url);
        let (ok, stdout, stderr) = python_run(&python, &["verify", &card_url, &trusted, name]);
        assert!(
            ok && stdout.trim() == "verified",
            "{name}: {stdout}\n{stderr}"
        );
        // And it refuses the card under another key: the check can fail.
        let (_, other) = key_pair(alg);
        let other = write(dir.path(), "other.pub", &other);
        let (ok, stdout, _) = python_run(&python, &["verify", &card_url, &other, name]);
        assert!(!ok, "{name}: a wrong key verified: {stdout}");
    }
}

#[test]
fn harbor_verifies_a_card_the_python_sdk_signed() {
    let Some(python) = python() else { return };
    let (ok, stdout, stderr) = python_run(&python, &["sign"]);
    assert!(ok, "{stdout}\n{stderr}");
    let signed: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let card: AgentCard = harbor_a2a::from_json_value(signed["card"].clone()).expect("card");
    let public = signed["public_pem"].as_str().expect("pem");
    let keys = TrustedKeys::from_texts([public]).expect("key");
    let verified = keys.verify(&card).expect("the SDK's signature verifies");
    assert_eq!(
        (verified.algorithm.as_str(), verified.key_id.as_deref()),
        ("ES256", Some("py-1"))
    );
    let mut tampered = card;
    tampered.name.push('!');
    assert!(keys.verify(&tampered).is_err());
}
