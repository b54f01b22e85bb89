//! The runner: every case against one target, as a report a CLI can print.

use std::fmt;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use super::{Binding, CaseFailure, ServerTarget};

/// A case as the runner sees it.
pub type CaseFn = for<'a> fn(&'a ServerTarget) -> BoxFuture<'a, Result<(), CaseFailure>>;

/// One runnable case: a case on one binding (or on none, for the card).
#[derive(Clone, Copy)]
pub struct CaseEntry {
    /// The case's name (its function's name).
    pub name: &'static str,
    /// The binding it runs on; `None` for binding-free cases.
    pub binding: Option<Binding>,
    /// Runs it.
    pub run: CaseFn,
}

impl CaseEntry {
    /// The area of the protocol it covers (see [`AREAS`](super::AREAS)).
    pub fn area(&self) -> &'static str {
        super::areas::area_of(self.name)
    }
}

impl fmt::Debug for CaseEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaseEntry")
            .field("name", &self.name)
            .field("binding", &self.binding)
            .finish_non_exhaustive()
    }
}

/// Every case, on every binding it applies to, in suite order.
pub const CASES: &[CaseEntry] = crate::__harbor_server_cases!(__harbor_server_table {});

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed; the message names the binding, the RPC and what differed.
    Failed(String),
    /// It did not run, for this reason.
    Skipped(String),
}

/// One line of a report.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case.
    pub name: &'static str,
    /// The binding; `None` for binding-free cases.
    pub binding: Option<Binding>,
    /// How it went.
    pub outcome: Outcome,
    /// How long it took.
    pub elapsed: Duration,
}

impl CaseReport {
    /// The area of the protocol the case covers (see [`AREAS`](super::AREAS)).
    pub fn area(&self) -> &'static str {
        super::areas::area_of(self.name)
    }
}

/// The result of a run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// One entry per case run, in order.
    pub cases: Vec<CaseReport>,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| f(&c.outcome)).count()
    }

    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Passed))
    }

    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed(_)))
    }

    /// Cases that were skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped(_)))
    }

    /// Whether no case failed.
    pub fn is_success(&self) -> bool {
        self.failed() == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for case in &self.cases {
            let binding = case.binding.map_or("-", Binding::slug);
            let (label, note) = match &case.outcome {
                Outcome::Passed => ("PASS", String::new()),
                Outcome::Failed(why) => ("FAIL", format!(": {why}")),
                Outcome::Skipped(why) => ("SKIP", format!(": {why}")),
            };
            writeln!(
                f,
                "{label} {binding:<9} {} ({} ms){note}",
                case.name,
                case.elapsed.as_millis()
            )?;
        }
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed(),
            self.failed(),
            self.skipped()
        )
    }
}

/// Runs every case against `target`, one after the other.
pub async fn run_all(target: &ServerTarget) -> Report {
    run_matching(target, |_| true).await
}

/// Runs the cases `filter` keeps, one after the other.
pub async fn run_matching(target: &ServerTarget, filter: impl Fn(&CaseEntry) -> bool) -> Report {
    let mut report = Report::default();
    for entry in CASES.iter().filter(|e| filter(e)) {
        report.cases.push(run_case(target, entry).await);
    }
    report
}

/// Runs one case on its own tokio task, so a panic is reported as a failure, and stops it
/// after four times the target's deadline.
pub async fn run_case(target: &ServerTarget, entry: &CaseEntry) -> CaseReport {
    let started = Instant::now();
    let owned = target.clone();
    let run = entry.run;
    let limit = target.options.deadline * 4;
    let handle = tokio::spawn(async move { tokio::time::timeout(limit, run(&owned)).await });
    let outcome = match handle.await {
        Ok(Ok(Ok(()))) => Outcome::Passed,
        Ok(Ok(Err(CaseFailure::Skipped { reason }))) => Outcome::Skipped(reason),
        Ok(Ok(Err(failure))) => Outcome::Failed(failure.to_string()),
        Ok(Err(_)) => Outcome::Failed(format!("the case did not finish within {limit:?}")),
        Err(e) => Outcome::Failed(format!("the case panicked: {}", panic_message(e))),
    };
    CaseReport {
        name: entry.name,
        binding: entry.binding,
        outcome,
        elapsed: started.elapsed(),
    }
}

fn panic_message(error: tokio::task::JoinError) -> String {
    match error.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "a non-string panic".into()),
        Err(error) => error.to_string(),
    }
}
