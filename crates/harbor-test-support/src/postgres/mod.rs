//! PostgreSQL: schemas of a test's own on the server at `HARBOR_POSTGRES_URL` (dropped
//! after), buses in them, and a throwaway cluster for fault tests.

mod schema;
mod server;

pub use schema::{Scratch, bus_in, scoped_bus, scoped_bus_named};
pub use server::PgServer;
