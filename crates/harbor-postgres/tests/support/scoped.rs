//! A bus in a fresh random schema that is dropped when the bus is closed, so suite cases
//! sharing one server never see each other and leave nothing behind.

use std::sync::Arc;

use harbor_conformance::bus::ScopedBus;
use harbor_distributed::MessageBus;
use harbor_postgres::PostgresBus;

/// Opens a bus at `url` in a new schema `harbor_test_<random>`.
pub(crate) async fn open(url: &str) -> Arc<dyn MessageBus> {
    open_named(url, "").await.0
}

/// Opens a bus at `url` (with the driver's query parameters `params`, `a=b&c=d`) in a new
/// schema; returns it and the schema's name.
pub(crate) async fn open_named(url: &str, params: &str) -> (Arc<dyn MessageBus>, String) {
    let schema = format!("harbor_test_{}", uuid::Uuid::new_v4().simple());
    let (server, name) = (url.to_owned(), schema.clone());
    let bus = ScopedBus::new(open_in(url, &schema, params).await).after_close(async move {
        if let Err(error) = harbor_postgres::raw::drop_schema(&server, &name).await {
            eprintln!("could not drop the test schema {name}: {error}");
        }
        Ok(())
    });
    (Arc::new(bus), schema)
}

/// Opens a bus on `schema`, with the driver's query parameters `params`; closing it leaves
/// the schema (for a second bus on the schema of one opened with [`open_named`]).
pub(crate) async fn open_in(url: &str, schema: &str, params: &str) -> Arc<dyn MessageBus> {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut target = format!("{url}{sep}schema={schema}");
    if !params.is_empty() {
        target = format!("{target}&{params}");
    }
    match PostgresBus::connect_url(&target).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("cannot open a postgres bus at the test server: {error}"),
    }
}
