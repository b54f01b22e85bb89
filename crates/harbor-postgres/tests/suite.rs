//! The bus conformance suite against the server at `HARBOR_POSTGRES_URL`, each case in a
//! schema of its own that is dropped when the case closes its bus.

use harbor_test_support::{postgres, require};

harbor_conformance::bus_suite!({
    let url = require!(postgres);
    move || {
        let url = url.clone();
        async move { postgres::scoped_bus(&url).await }
    }
});
