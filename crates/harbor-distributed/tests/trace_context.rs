//! W3C trace context through `trace_context`: nothing while off; once on (with the
//! OpenTelemetry layer and the W3C propagator), a span that continues a remote parent
//! writes the same trace with its own span id, and the trace state travels along.

use std::collections::BTreeMap;

use harbor_distributed::trace_context;
use opentelemetry::trace::TracerProvider as _;
use tracing_subscriber::layer::SubscriberExt as _;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn carrier() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("traceparent".to_owned(), PARENT.to_owned()),
        ("tracestate".to_owned(), "vendor=opaque".to_owned()),
    ])
}

#[test]
fn off_nothing_is_read_or_written_on_a_span_continues_its_remote_parent() {
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        // Off (the default): nothing extracted, nothing written.
        assert!(trace_context::extract(&carrier()).is_none());
        let mut written = BTreeMap::new();
        trace_context::inject(&tracing::info_span!("off"), &mut written);
        assert!(written.is_empty(), "{written:?}");

        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        trace_context::enable();
        let span = tracing::info_span!("hop");
        trace_context::continue_from(&span, &carrier());
        let mut written = BTreeMap::new();
        trace_context::inject(&span, &mut written);
        let parent = written.get("traceparent").expect("a traceparent");
        let parts: Vec<&str> = parent.split('-').collect();
        assert_eq!(parts.len(), 4, "{parent}");
        assert_eq!(parts[1], TRACE_ID, "the same trace");
        assert_ne!(parts[2], "00f067aa0ba902b7", "its own span id");
        assert_eq!(parts[3], "01", "sampled, as the parent was");
        assert_eq!(
            written.get("tracestate").map(String::as_str),
            Some("vendor=opaque")
        );

        // A carrier without a traceparent continues nothing: a new trace.
        let fresh = tracing::info_span!("fresh");
        trace_context::continue_from(&fresh, &BTreeMap::new());
        let mut written = BTreeMap::new();
        trace_context::inject(&fresh, &mut written);
        let parent = written.get("traceparent").expect("a traceparent");
        assert!(!parent.contains(TRACE_ID), "{parent}");
    });
}
