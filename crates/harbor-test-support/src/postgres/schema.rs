//! Schemas of a test's own, so tests sharing one server never see each other and leave
//! nothing behind.

use std::sync::Arc;

use harbor_conformance::bus::ScopedBus;
use harbor_distributed::MessageBus;
use harbor_postgres::PostgresBus;

use crate::{Engine, server_url, with_query};

/// A fresh schema name, `harbor_test_<random>`.
fn fresh_schema() -> String {
    format!("harbor_test_{}", uuid::Uuid::new_v4().simple())
}

/// A fresh schema on a server: its URL (the server's with `schema=`), dropped when this
/// is dropped.
pub struct Scratch {
    server: String,
    schema: String,
    /// The server's URL naming the schema: for a store, a bus or `harbor serve`.
    pub url: String,
}

impl Scratch {
    /// A fresh schema on the server at `HARBOR_POSTGRES_URL`; `None` (a skip, said on
    /// stderr) when it is unset.
    pub fn new() -> Option<Scratch> {
        Some(Scratch::on(&server_url(Engine::Postgres)?))
    }

    /// A fresh schema on the server at `server`.
    pub fn on(server: &str) -> Scratch {
        let schema = fresh_schema();
        Scratch {
            url: with_query(server, &format!("schema={schema}")),
            server: server.to_owned(),
            schema,
        }
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let (server, schema) = (self.server.clone(), self.schema.clone());
        // A thread of its own: the test may be inside a runtime already.
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(harbor_postgres::raw::drop_schema(&server, &schema))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop the test schema {}: {dropped:?}",
                self.schema
            );
        }
    }
}

/// Opens a bus at `url` in a new schema, dropped when the bus is closed.
pub async fn scoped_bus(url: &str) -> Arc<dyn MessageBus> {
    scoped_bus_named(url, "").await.0
}

/// Opens a bus at `url` (with the driver's query parameters `params`, `a=b&c=d`) in a new
/// schema, dropped when the bus is closed; returns it and the schema's name.
pub async fn scoped_bus_named(url: &str, params: &str) -> (Arc<dyn MessageBus>, String) {
    let schema = fresh_schema();
    let (server, name) = (url.to_owned(), schema.clone());
    let bus = ScopedBus::new(bus_in(url, &schema, params).await).after_close(async move {
        if let Err(error) = harbor_postgres::raw::drop_schema(&server, &name).await {
            eprintln!("could not drop the test schema {name}: {error}");
        }
        Ok(())
    });
    (Arc::new(bus), schema)
}

/// Opens a bus on `schema`, with the driver's query parameters `params`; closing it leaves
/// the schema (for a second bus on the schema of one opened with [`scoped_bus_named`]).
pub async fn bus_in(url: &str, schema: &str, params: &str) -> Arc<dyn MessageBus> {
    let target = with_query(&with_query(url, &format!("schema={schema}")), params);
    match PostgresBus::connect_url(&target).await {
        Ok(bus) => Arc::new(bus),
        Err(error) => panic!("cannot open a postgres bus at the test server: {error}"),
    }
}
