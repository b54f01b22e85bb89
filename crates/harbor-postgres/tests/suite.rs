//! The bus conformance suite against the server at `HARBOR_POSTGRES_URL`, each case in a
//! schema of its own that is dropped when the case closes its bus.

mod support;

harbor_conformance::bus_suite!(env = "HARBOR_POSTGRES_URL", |url: String| async move {
    support::scoped::open(&url).await
});
