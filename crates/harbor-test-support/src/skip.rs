//! One way to skip: `skipped: <test>: <reason>` on stderr, and the test returns (passing).

use std::fmt::Display;

/// A service a test can need, named by its `HARBOR_<ENGINE>_URL` variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `HARBOR_NATS_URL`.
    Nats,
    /// `HARBOR_REDIS_URL`.
    Redis,
    /// `HARBOR_POSTGRES_URL`.
    Postgres,
}

impl Engine {
    /// The environment variable naming the server's URL.
    pub fn var(self) -> &'static str {
        match self {
            Engine::Nats => "HARBOR_NATS_URL",
            Engine::Redis => "HARBOR_REDIS_URL",
            Engine::Postgres => "HARBOR_POSTGRES_URL",
        }
    }
}

/// The running test's name: libtest runs each test on a thread named after it.
pub fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_owned(),
        _ => "test".to_owned(),
    }
}

/// Says on stderr that the running test is skipped, and why.
pub fn skip(reason: impl Display) {
    eprintln!("skipped: {}: {reason}", test_name());
}

/// The URL of `engine`'s server from its variable, or `None` after saying the test skips.
pub fn server_url(engine: Engine) -> Option<String> {
    match std::env::var(engine.var()) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(format_args!(
                "{} is not set (.ci/run sets it)",
                engine.var()
            ));
            None
        }
    }
}

/// The URL of a service's server (`require!(nats)`, `require!(redis)`,
/// `require!(postgres)`), or a skip: the enclosing function or async block returns
/// `Default::default()` (`()`, or `None` in a function returning an `Option`) after
/// [`skip()`] said why.
#[macro_export]
macro_rules! require {
    (nats) => {
        $crate::require!(@ $crate::Engine::Nats)
    };
    (redis) => {
        $crate::require!(@ $crate::Engine::Redis)
    };
    (postgres) => {
        $crate::require!(@ $crate::Engine::Postgres)
    };
    (@ $engine:expr) => {
        match $crate::server_url($engine) {
            ::std::option::Option::Some(url) => url,
            ::std::option::Option::None => return ::std::default::Default::default(),
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_name_is_the_thread_name() {
        assert_eq!(test_name(), "skip::tests::the_test_name_is_the_thread_name");
    }

    #[test]
    fn each_engine_names_its_variable() {
        assert_eq!(Engine::Nats.var(), "HARBOR_NATS_URL");
        assert_eq!(Engine::Redis.var(), "HARBOR_REDIS_URL");
        assert_eq!(Engine::Postgres.var(), "HARBOR_POSTGRES_URL");
    }
}
