//! The admin surface: operator endpoints that see every tenant, so they belong on a
//! listener of their own that only operators reach (`harbor serve --admin 127.0.0.1:PORT`).
//! Never mount this router on the A2A port.
//!
//! | route | what it does |
//! |---|---|
//! | `GET /healthz` | 200 `ok` while the process serves at all |
//! | `GET /readyz` | 200 when traffic can be sent here: not draining, the store answers, the bus (if any) is followed and takes publishes; else 503; a JSON body says which |
//! | `GET /metrics` | the Prometheus text exposition (only with [`Metrics`], see [`router_with_metrics`]); the series are listed in `docs/observability.md` |
//! | `GET /admin/push/dead-letters?after_task=T&after_config=C&limit=N` | push deliveries that gave up, any owner's, 100 a page by default (at most 1000); `next` names the page after |
//! | `POST /admin/push/dead-letters/{task}/{config}/redrive` | delivers a dead letter again from the event it gave up on; 404 when there is none |
//!
//! Dead letters carry their owner, reason, attempts and the last status, never the
//! config's URL, token or credentials.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::future::BoxFuture;
use harbor_distributed::PushCursor;
use serde::Deserialize;
use serde_json::{Value, json};

use harbor_a2a::TaskState;
use metrics::gauge;

use crate::{DefaultHandler, telemetry};

/// The largest page of dead letters.
const MAX_PAGE: usize = 1000;
/// The page of dead letters when none is asked for.
const DEFAULT_PAGE: usize = 100;

/// How long a scrape waits for the store to count its tasks by state.
const COUNT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long `/readyz` waits for the store.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Renders the metrics of the installed recorder as Prometheus text, once per scrape;
/// asynchronous so that it can first read gauges that take a query (a bus's consumer
/// lag). It should bound what it waits for: the scrape waits for it.
pub type Metrics = Arc<dyn Fn() -> BoxFuture<'static, String> + Send + Sync>;

/// The admin routes for `handler`, health included, without `/metrics`.
pub fn router(handler: DefaultHandler) -> Router {
    router_with_metrics(handler, None)
}

/// The admin routes for `handler`, with `/metrics` rendered by `metrics` when given.
pub fn router_with_metrics(handler: DefaultHandler, metrics: Option<Metrics>) -> Router {
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/admin/push/dead-letters", get(dead_letters))
        .route(
            "/admin/push/dead-letters/{task}/{config}/redrive",
            post(redrive),
        );
    if let Some(render) = metrics {
        router = router.route(
            "/metrics",
            get(move |State(handler): State<DefaultHandler>| async move {
                scrape(&handler, &render).await
            }),
        );
    }
    router.with_state(handler)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(handler): State<DefaultHandler>) -> Response {
    let ready = handler.readiness(READY_TIMEOUT).await;
    let status = if ready.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let check = |r: &Result<(), String>| match r {
        Ok(()) => json!("ok"),
        Err(why) => json!(why),
    };
    let body = json!({
        "ready": ready.is_ready(),
        "draining": ready.draining,
        "store": check(&ready.store),
        "bus": ready.bus.as_ref().map(check),
    });
    (status, axum::Json(body)).into_response()
}

/// The gauges read from the handler now, then everything rendered.
async fn scrape(handler: &DefaultHandler, render: &Metrics) -> Response {
    record_handler_gauges(handler, COUNT_TIMEOUT).await;
    let text = render().await;
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Sets the gauges read from `handler` and its store (call before rendering); the store's
/// count waits at most `timeout`.
async fn record_handler_gauges(handler: &DefaultHandler, timeout: Duration) {
    gauge!(telemetry::RUNNING_EXECUTIONS).set(handler.running_executions() as f64);
    gauge!(telemetry::LOG_READERS).set(handler.open_streams() as f64);
    let counts = match handler.tasks_by_state(timeout).await {
        Ok(Some(counts)) => counts,
        // A store that keeps no count shows no series.
        Ok(None) => return,
        Err(why) => {
            tracing::warn!(%why, "tasks by state: the store did not count");
            for state in TaskState::ALL {
                gauge!(telemetry::TASKS, "state" => state.as_str_name()).set(f64::NAN);
            }
            return;
        }
    };
    for state in TaskState::ALL {
        let count = counts.iter().find(|(s, _)| *s == state).map_or(0, |c| c.1);
        gauge!(telemetry::TASKS, "state" => state.as_str_name()).set(count as f64);
    }
}

#[derive(Debug, Deserialize)]
struct Page {
    after_task: Option<String>,
    after_config: Option<String>,
    limit: Option<usize>,
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

async fn dead_letters(State(handler): State<DefaultHandler>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = match (&page.after_task, &page.after_config) {
        (Some(task), Some(config)) => Some((task.as_str(), config.as_str())),
        (None, None) => None,
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "after_task and after_config go together",
            );
        }
    };
    // One more than asked tells whether there is a next page.
    match handler.push_dead_letters(after, limit + 1).await {
        Ok(mut dead) => {
            let next = (dead.len() > limit).then(|| {
                dead.truncate(limit);
                dead.last()
                    .map(|d| json!({"taskId": d.task_id, "configId": d.config_id}))
            });
            let letters: Vec<Value> = dead.iter().map(letter).collect();
            axum::Json(json!({"deadLetters": letters, "next": next.flatten()})).into_response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.message()),
    }
}

async fn redrive(
    State(handler): State<DefaultHandler>,
    Path((task, config)): Path<(String, String)>,
) -> Response {
    match handler.redrive_push(&task, &config).await {
        Ok(true) => axum::Json(json!({"redriven": true})).into_response(),
        Ok(false) => error(
            StatusCode::NOT_FOUND,
            "no dead letter for this task and config",
        ),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.message()),
    }
}

/// A dead letter as the admin surface shows it.
fn letter(cursor: &PushCursor) -> Value {
    let millis = |t: std::time::SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    };
    json!({
        "tenant": &*cursor.owner.tenant,
        "user": &*cursor.owner.user,
        "taskId": cursor.task_id,
        "configId": cursor.config_id,
        "deliveredThrough": cursor.delivered,
        "attempts": cursor.attempts,
        "failingSinceMs": cursor.failing_since.map(millis),
        "lastStatus": cursor.last_failure.as_ref().and_then(|f| f.status),
        "lastError": cursor.last_failure.as_ref().map(|f| f.error.as_str()),
        "reason": cursor.dead,
    })
}
