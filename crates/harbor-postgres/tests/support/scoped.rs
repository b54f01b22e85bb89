//! A bus in a fresh random schema that is dropped when the bus is closed, so suite cases
//! sharing one server never see each other and leave nothing behind.

use std::sync::Arc;

use harbor_conformance::bus::ScopedBus;
use harbor_distributed::MessageBus;
use harbor_postgres::PostgresBus;

/// Opens a bus at `url` in a new schema `harbor_test_<random>`.
pub(crate) async fn open(url: &str) -> Arc<dyn MessageBus> {
    let schema = format!("harbor_test_{}", uuid::Uuid::new_v4().simple());
    let sep = if url.contains('?') { '&' } else { '?' };
    let bus = match PostgresBus::connect(&format!("{url}{sep}schema={schema}")).await {
        Ok(bus) => bus,
        Err(error) => panic!("cannot open a postgres bus at the test server: {error}"),
    };
    let server = url.to_owned();
    Arc::new(ScopedBus::new(Arc::new(bus)).after_close(async move {
        if let Err(error) = harbor_postgres::raw::drop_schema(&server, &schema).await {
            eprintln!("could not drop the test schema {schema}: {error}");
        }
        Ok(())
    }))
}
