//! Hostile input: the SSE decoder and the error-body parser take arbitrary bytes without
//! panicking and within their caps; well-formed streams decode the same however they are
//! split.

use harbor_client::error::BODY_SNIPPET_BYTES;
use harbor_client::error_from_response;
use harbor_client::sse::{SseDecoder, SseEvent};
use harbor_distributed::Error;
use proptest::prelude::*;

const CAP: usize = 64;

/// Feeds `bytes` in the pieces `cuts` makes; the events, and whether it failed.
fn decode(bytes: &[u8], cuts: &[usize], cap: usize) -> (Vec<SseEvent>, bool) {
    let mut decoder = SseDecoder::new(cap);
    let mut events = Vec::new();
    let mut failed = false;
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.push(bytes.len());
    for point in points {
        let chunk = &bytes[at..point.max(at)];
        at = point.max(at);
        if decoder.push(chunk).is_err() {
            failed = true;
        }
        assert!(
            decoder.buffered() <= cap,
            "{} bytes held past the cap",
            decoder.buffered()
        );
        events.extend(std::iter::from_fn(|| decoder.next_event()));
        if failed {
            break;
        }
    }
    (events, failed)
}

/// Bytes that look like SSE often enough to reach every branch.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data:".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event: error".to_vec()),
        Just(b"id: 7".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry: 99".to_vec()),
        Just(b":".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
        "[a-z {}\":]{0,80}".prop_map(String::into_bytes),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_sse_decoder_never_panics_and_respects_its_cap(
        bytes in sse_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let (events, _) = decode(&bytes, &cuts, CAP);
        for event in &events {
            prop_assert!(event.data.len() <= CAP, "an event of {} bytes", event.data.len());
        }
    }

    #[test]
    fn chunking_does_not_change_the_result(
        bytes in sse_bytes(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = decode(&bytes, &[], 1 << 20);
        let split = decode(&bytes, &cuts, 1 << 20);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn well_formed_events_round_trip(
        events in proptest::collection::vec(
            ("[a-z]{0,8}", proptest::collection::vec("[^\r\n]{0,30}", 1..4), proptest::option::of("[a-z0-9]{1,6}")),
            1..8,
        ),
        ending in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut text = String::new();
        let mut expected = Vec::new();
        let mut last_id = None;
        for (kind, lines, id) in &events {
            if !kind.is_empty() {
                text.push_str(&format!("event: {kind}{ending}"));
            }
            if let Some(id) = id {
                text.push_str(&format!("id: {id}{ending}"));
                last_id = Some(id.clone());
            }
            for line in lines {
                text.push_str(&format!("data: {line}{ending}"));
            }
            text.push_str(ending);
            expected.push(SseEvent {
                event: kind.clone(),
                data: lines.join("\n"),
                id: last_id.clone(),
            });
        }
        let (decoded, failed) = decode(text.as_bytes(), &cuts, 1 << 20);
        prop_assert!(!failed);
        prop_assert_eq!(decoded, expected);
    }

    #[test]
    fn error_bodies_never_panic_and_stay_short(
        status in 100u16..600,
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..2048),
            json_error().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        let error = error_from_response("https://agent.example/x", status, &body);
        match &error {
            Error::Protocol(e) => prop_assert!(e.message().len() <= body.len() + 64),
            Error::Backend { source, .. } => {
                prop_assert!(source.to_string().len() <= BODY_SNIPPET_BYTES + 128, "{}", source);
            }
            other => prop_assert!(false, "unexpected error {:?}", other),
        }
    }
}

/// JSON shaped like (and often almost like) the two error bodies.
fn json_error() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-33000i64..-32000).prop_map(serde_json::Value::from),
        "[A-Z_]{0,30}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("TASK_NOT_FOUND")),
        Just(serde_json::Value::from("a2a-protocol.org")),
        Just(serde_json::Value::from(
            "type.googleapis.com/google.rpc.ErrorInfo"
        )),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            Just("error".to_owned()),
            Just("code".to_owned()),
            Just("message".to_owned()),
            Just("data".to_owned()),
            Just("details".to_owned()),
            Just("reason".to_owned()),
            Just("domain".to_owned()),
            Just("metadata".to_owned()),
            Just("@type".to_owned()),
            Just("jsonrpc".to_owned()),
            Just("status".to_owned()),
            "[a-z]{1,5}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(key, inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
