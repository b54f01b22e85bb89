//! A bus in a fresh random schema that is dropped when the bus is closed, so suite cases
//! sharing one server never see each other and leave nothing behind.

use std::sync::Arc;

use async_trait::async_trait;
use harbor_distributed::{
    Capabilities, Envelope, Error, MessageBus, PublishReceipt, SubscribeOptions, Subscription,
};
use harbor_postgres::PostgresBus;

/// Opens a bus at `url` in a new schema `harbor_test_<random>`.
pub(crate) async fn open(url: &str) -> Arc<dyn MessageBus> {
    let schema = format!("harbor_test_{}", uuid::Uuid::new_v4().simple());
    let sep = if url.contains('?') { '&' } else { '?' };
    let bus = match PostgresBus::connect(&format!("{url}{sep}schema={schema}")).await {
        Ok(bus) => bus,
        Err(error) => panic!("cannot open a postgres bus at the test server: {error}"),
    };
    Arc::new(Scoped {
        bus,
        server: url.to_owned(),
        schema,
    })
}

struct Scoped {
    bus: PostgresBus,
    server: String,
    schema: String,
}

/// Runs `sql` on a connection of its own, driven here (no spawned task).
pub(crate) async fn execute(server: &str, sql: &str) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(server, tokio_postgres::NoTls).await?;
    let work = async {
        let out = client.batch_execute(sql).await;
        drop(client);
        out
    };
    let (out, _) = tokio::join!(work, connection);
    out
}

#[async_trait]
impl MessageBus for Scoped {
    fn capabilities(&self) -> Capabilities {
        self.bus.capabilities()
    }

    async fn publish(&self, envelope: Envelope) -> Result<PublishReceipt, Error> {
        self.bus.publish(envelope).await
    }

    async fn subscribe(&self, options: SubscribeOptions) -> Result<Subscription, Error> {
        self.bus.subscribe(options).await
    }

    async fn close(&self) -> Result<(), Error> {
        self.bus.close().await?;
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        if let Err(error) = execute(&self.server, &sql).await {
            eprintln!("could not drop the test schema {}: {error}", self.schema);
        }
        Ok(())
    }
}
