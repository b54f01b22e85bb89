//! A PostgreSQL schema of a test's own, at `HARBOR_POSTGRES_URL`, dropped with it.

#![allow(dead_code, unreachable_pub)]

/// A fresh schema: its URL (the server's with `schema=`), dropped when this is dropped.
pub struct Scratch {
    server: String,
    schema: String,
    /// The server's URL naming the schema: a `--store` or `--bus` for `harbor serve`.
    pub url: String,
}

impl Scratch {
    /// A fresh schema on the server at `HARBOR_POSTGRES_URL`; `None` (a skip, said on
    /// stderr) when it is unset.
    pub fn new() -> Option<Scratch> {
        let Some(server) = std::env::var("HARBOR_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipped: set HARBOR_POSTGRES_URL to the server's URL (.ci/run sets it)");
            return None;
        };
        let schema = format!("harbor_test_{}", uuid::Uuid::new_v4().simple());
        let sep = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{sep}schema={schema}");
        Some(Scratch {
            server,
            schema,
            url,
        })
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
            eprintln!("could not drop the test schema {}", self.schema);
        }
    }
}
