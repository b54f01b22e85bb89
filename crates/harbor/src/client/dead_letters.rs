//! `harbor push dead-letters | redrive`: push deliveries that gave up, through the admin
//! listener of a running `harbor serve` (`--admin ADDR`), which sees every tenant.

use std::time::Duration;

use clap::Args;
use harbor_client::Error;
use serde_json::Value;

use super::exit::{Failure, Outcome};
use super::output;

/// Options of `harbor push dead-letters`.
#[derive(Debug, Args)]
pub(crate) struct DeadLettersArgs {
    /// The admin listener of the server (`harbor serve --admin ADDR`), e.g.
    /// http://127.0.0.1:9998.
    #[arg(long, value_name = "URL")]
    admin: String,
    /// At most this many (all of them when unset).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    limit: Option<u64>,
    /// Print the dead letters as JSON.
    #[arg(long)]
    json: bool,
}

/// Options of `harbor push redrive`.
#[derive(Debug, Args)]
pub(crate) struct RedriveArgs {
    /// The admin listener of the server.
    #[arg(long, value_name = "URL")]
    admin: String,
    /// The task.
    #[arg(value_name = "TASK_ID")]
    task_id: String,
    /// The push config.
    #[arg(value_name = "CONFIG_ID")]
    config_id: String,
}

/// How long one admin request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

fn client() -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| Failure::Local(format!("cannot set up the HTTP client: {e}")))
}

/// A failure to reach the admin listener, or an answer that is not what it sends.
fn unreachable(what: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Failure {
    Failure::Call(Error::Backend {
        driver: "admin",
        retryable: true,
        source: what.into(),
    })
}

async fn answer(response: reqwest::Response) -> Result<(reqwest::StatusCode, Value), Failure> {
    let status = response.status();
    let body = response.json::<Value>().await.map_err(|e| {
        unreachable(format!(
            "the admin listener answered HTTP {status} without JSON: {e}"
        ))
    })?;
    Ok((status, body))
}

/// Runs `harbor push dead-letters`.
pub(crate) async fn list(args: DeadLettersArgs) -> Outcome {
    let client = client()?;
    let base = args.admin.trim_end_matches('/');
    let mut letters: Vec<Value> = Vec::new();
    let mut after: Option<(String, String)> = None;
    let wanted = args.limit.map_or(usize::MAX, |n| n as usize);
    while letters.len() < wanted {
        let mut url = reqwest::Url::parse(&format!("{base}/admin/push/dead-letters"))
            .map_err(|e| Failure::Usage(format!("--admin {:?} is not a URL: {e}", args.admin)))?;
        if let Some((task, config)) = &after {
            url.query_pairs_mut()
                .append_pair("after_task", task)
                .append_pair("after_config", config);
        }
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|e| unreachable(e.without_url()))?;
        let (status, body) = answer(response).await?;
        if !status.is_success() {
            return Err(unreachable(format!(
                "the admin listener answered HTTP {status}: {body}"
            )));
        }
        let page = body["deadLetters"].as_array().cloned().unwrap_or_default();
        letters.extend(page);
        after = body["next"].as_object().map(|next| {
            let field = |k: &str| {
                next.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            (field("taskId"), field("configId"))
        });
        if after.is_none() {
            break;
        }
    }
    letters.truncate(wanted);
    if args.json {
        let text = serde_json::to_string_pretty(&letters)
            .map_err(|e| Failure::Local(format!("cannot write JSON: {e}")))?;
        return output::text(&text);
    }
    if letters.is_empty() {
        return output::text("no dead letters");
    }
    let mut table = format!(
        "{:<38} {:<20} {:<24} {:>8} {:>6}  reason\n",
        "task", "config", "owner", "attempts", "status"
    );
    for letter in &letters {
        let text = |k: &str| letter[k].as_str().unwrap_or_default().to_owned();
        let status = letter["lastStatus"]
            .as_u64()
            .map_or("-".to_owned(), |s| s.to_string());
        table.push_str(&format!(
            "{:<38} {:<20} {:<24} {:>8} {:>6}  {}\n",
            text("taskId"),
            text("configId"),
            format!("{}/{}", text("tenant"), text("user")),
            letter["attempts"].as_u64().unwrap_or_default(),
            status,
            text("reason")
        ));
    }
    output::text(table.trim_end())
}

/// Runs `harbor push redrive`.
pub(crate) async fn redrive(args: RedriveArgs) -> Outcome {
    let client = client()?;
    let base = args.admin.trim_end_matches('/');
    let url = reqwest::Url::parse(&format!("{base}/admin/push/dead-letters/"))
        .and_then(|u| u.join(&format!("{}/", encode(&args.task_id))))
        .and_then(|u| u.join(&format!("{}/redrive", encode(&args.config_id))))
        .map_err(|e| Failure::Usage(format!("--admin {:?} is not a URL: {e}", args.admin)))?;
    let response = client
        .post(url)
        .send()
        .await
        .map_err(|e| unreachable(e.without_url()))?;
    let (status, body) = answer(response).await?;
    match status.as_u16() {
        200..=299 => output::text(&format!(
            "re-driving push config {} of task {}",
            args.config_id, args.task_id
        )),
        404 => Err(Failure::Usage(format!(
            "no dead letter for push config {} of task {}",
            args.config_id, args.task_id
        ))),
        _ => Err(unreachable(format!(
            "the admin listener answered HTTP {status}: {body}"
        ))),
    }
}

/// A path segment, percent-encoded.
fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
