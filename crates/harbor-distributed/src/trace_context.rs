//! W3C trace context (`traceparent`, `tracestate`) carried across every hop: HTTP and gRPC
//! requests, bus envelope headers, push webhook POSTs.
//!
//! Off by default, and then free: every function here returns at once until
//! [`enable`] is called (`harbor serve --otlp-endpoint` does, after installing the
//! OpenTelemetry layer and the W3C propagator). Spans are `tracing` spans; their
//! OpenTelemetry context comes from `tracing-opentelemetry`.
//!
//! ```
//! use std::collections::BTreeMap;
//! use harbor_distributed::trace_context;
//!
//! // Not enabled: nothing is written.
//! let mut headers = BTreeMap::new();
//! trace_context::inject(&tracing::Span::current(), &mut headers);
//! assert!(headers.is_empty());
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C header naming the trace and the parent span.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C header of vendor trace state.
pub const TRACESTATE: &str = "tracestate";

static ENABLED: AtomicBool = AtomicBool::new(false);

/// An OpenTelemetry context: the remote parent a span continues.
pub type Context = opentelemetry::Context;

/// Turns propagation on for the process. Call it once the OpenTelemetry layer and a
/// text-map propagator are installed.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether propagation is on.
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Writes the trace context of `span` into `headers` (nothing when off).
pub fn inject(span: &tracing::Span, headers: &mut BTreeMap<String, String>) {
    inject_with(span, |key, value| {
        headers.insert(key.to_owned(), value);
    });
}

/// Writes the trace context of `span` through `set(header, value)` (nothing when off).
pub fn inject_with(span: &tracing::Span, set: impl FnMut(&str, String)) {
    if !is_enabled() {
        return;
    }
    let context = span.context();
    inject_context(&context, set);
}

/// Writes `context` through `set(header, value)` (nothing when off).
pub fn inject_context(context: &Context, set: impl FnMut(&str, String)) {
    if !is_enabled() {
        return;
    }
    struct With<F>(F);
    impl<F: FnMut(&str, String)> Injector for With<F> {
        fn set(&mut self, key: &str, value: String) {
            (self.0)(key, value);
        }
    }
    let mut injector = With(set);
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(context, &mut injector);
    });
}

/// The trace context of `span`, to continue later elsewhere; `None` when off.
pub fn current_context(span: &tracing::Span) -> Option<Context> {
    is_enabled().then(|| span.context())
}

/// The remote parent `headers` (lower-case names) carry, if any; `None` when off.
pub fn extract(headers: &BTreeMap<String, String>) -> Option<Context> {
    extract_with(|name| headers.get(name).map(String::as_str))
}

/// The remote parent that `get(header)` finds, if any; `None` when off.
pub fn extract_with<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Context> {
    if !is_enabled() {
        return None;
    }
    let parent = get(TRACEPARENT)?;
    let headers = Carried {
        parent,
        state: get(TRACESTATE),
    };
    Some(opentelemetry::global::get_text_map_propagator(
        |propagator| propagator.extract(&headers),
    ))
}

/// The two W3C headers of a carrier.
struct Carried<'a> {
    parent: &'a str,
    state: Option<&'a str>,
}

impl Extractor for Carried<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => Some(self.parent),
            TRACESTATE => self.state,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        let mut keys = vec![TRACEPARENT];
        if self.state.is_some() {
            keys.push(TRACESTATE);
        }
        keys
    }
}

/// Makes `span` a child of the remote parent in `headers`, if there is one.
pub fn continue_from(span: &tracing::Span, headers: &BTreeMap<String, String>) {
    if let Some(parent) = extract(headers) {
        let _ = span.set_parent(parent);
    }
}

/// Makes `span` a child of `parent`, if given.
pub fn continue_context(span: &tracing::Span, parent: Option<Context>) {
    if let Some(parent) = parent {
        let _ = span.set_parent(parent);
    }
}
