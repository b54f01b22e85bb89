//! `harbor serve --config FILE` and `harbor config check FILE` as a user runs them: the
//! file's settings take effect under the command line's, a bad key stops the server with
//! the closest valid one named, and the check prints the effective settings.

mod support;

use support::run::run;
use support::serve::Server;

fn file(text: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), text).expect("write");
    file
}

#[test]
fn the_file_configures_the_server_under_the_command_line() {
    // The file asks for an admin listener and a name; the command line's --port 0 (from
    // the test support) wins over the file's port.
    let config = file("port = 1\nadmin = \"127.0.0.1:0\"\nname = \"Configured by file\"\n");
    let path = config.path().to_str().expect("utf-8 path");
    let server = Server::start(&["--no-grpc", "--config", path]);
    assert!(
        server
            .output()
            .lines()
            .any(|l| l.trim().starts_with("admin")),
        "{}",
        server.output()
    );
    let card = run(&["card", &server.base_url]).ok("card");
    assert!(
        card.stdout.contains("Configured by file"),
        "{}",
        card.stdout
    );
}

#[test]
fn an_unknown_key_stops_the_server_naming_the_closest_flag() {
    let config = file("shutdown-grase = 3\n");
    let path = config.path().to_str().expect("utf-8 path");
    let out = run(&["serve", "--port", "0", "--config", path]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("\"shutdown-grase\"") && out.stderr.contains("\"shutdown-grace\""),
        "{}",
        out.stderr
    );
}

#[test]
fn config_check_prints_the_effective_settings_with_secrets_masked() {
    let config = file(
        "# the bus URL's password is a secret\nbus = \"postgres://harbor:s3cret@db/harbor\"\n\n[push]\nmax-attempts = 7\n",
    );
    let path = config.path().to_str().expect("utf-8 path");
    let out = run(&["config", "check", path]).ok("config check");
    assert!(
        out.stdout.contains("push-max-attempts = \"7\"  # file"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("port = \"9999\"  # default"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("s3cret"), "{}", out.stdout);

    let bad = file("port = 70000\n");
    let out = run(&["config", "check", bad.path().to_str().expect("utf-8 path")]);
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    assert!(out.stderr.contains("--port"), "{}", out.stderr);
}
