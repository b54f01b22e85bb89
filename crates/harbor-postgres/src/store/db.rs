//! [`Db`]: the pool, schema and settings every statement of the store runs with, and the
//! conversions of versions and sequences to the bigints they are stored as.

use deadpool_postgres::Pool;
use harbor_distributed::{Error, Owner};
use tokio_postgres::types::ToSql;

use super::options::StoreOptions;
use crate::PostgresBusConfig;
use crate::errors;

/// What the store's statements need.
pub(super) struct Db {
    pub(super) pool: Pool,
    /// The schema, checked by [`PostgresBusConfig::validate`] (safe to put in SQL).
    pub(super) schema: String,
    pub(super) options: StoreOptions,
    pub(super) config: PostgresBusConfig,
}

impl Db {
    /// The statement text with `{s}` replaced by the schema.
    pub(super) fn sql(&self, text: &str) -> String {
        text.replace("{s}", &self.schema)
    }

    pub(super) async fn client(&self) -> Result<deadpool_postgres::Object, Error> {
        self.pool.get().await.map_err(errors::pool)
    }

    /// One statement's rows.
    pub(super) async fn query(
        &self,
        text: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, Error> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&self.sql(text))
            .await
            .map_err(errors::backend)?;
        client
            .query(&statement, params)
            .await
            .map_err(errors::backend)
    }

    /// The version of `owner`'s task `task_id`, if there is one.
    pub(super) async fn version(&self, owner: &Owner, task_id: &str) -> Result<Option<u64>, Error> {
        let rows = self
            .query(
                "SELECT version FROM {s}.tasks WHERE id = $1 AND tenant = $2 AND user_id = $3",
                &[&task_id, &&*owner.tenant, &&*owner.user],
            )
            .await?;
        Ok(rows.first().map(|r| to_u64(r.get(0))))
    }
}

/// A u64 (version, sequence) as the bigint it is stored as.
pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
