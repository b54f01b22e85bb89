//! The report of `harbor check` as a table for people and as JSON for programs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use harbor_conformance::server::{AREAS, Binding, CaseReport, Outcome, Report, ServerTarget};
use serde_json::{Value, json};

/// The longest reason a table line shows.
const REASON_CHARS: usize = 240;

/// `PASS`, `FAIL` or `SKIP`.
pub(super) fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "PASS",
        Outcome::Failed(_) => "FAIL",
        Outcome::Skipped(_) => "SKIP",
    }
}

/// `case [binding]`.
pub(super) fn case_name(case: &CaseReport) -> String {
    match case.binding {
        Some(binding) => format!("{} [{binding}]", case.name),
        None => case.name.to_owned(),
    }
}

/// The reason on one line, cut to [`REASON_CHARS`].
pub(super) fn one_line(reason: &str) -> String {
    let flat = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= REASON_CHARS {
        return flat;
    }
    let cut: String = flat.chars().take(REASON_CHARS - 1).collect();
    format!("{cut}…")
}

/// The table's columns: the card's own cases, then each binding.
const COLUMNS: [(Option<Binding>, &str); 4] = [
    (None, "card"),
    (Some(Binding::JsonRpc), "JSON-RPC"),
    (Some(Binding::HttpJson), "HTTP+JSON"),
    (Some(Binding::Grpc), "gRPC"),
];

/// A row of the table: its case name and one label per column.
type Row = (&'static str, [&'static str; 4]);

/// The row a case belongs to: a `grpc_*` case shares the row of the JSON case it mirrors.
fn row_name(case: &CaseReport) -> &'static str {
    case.name.strip_prefix("grpc_").unwrap_or(case.name)
}

/// The table: one row per case and area, one column per binding; then each failure with
/// its reason on one line, the skip reasons counted, and the totals.
pub(super) fn table(target: &ServerTarget, report: &Report, elapsed: Duration) -> String {
    let declared: Vec<String> = [Binding::JsonRpc, Binding::HttpJson, Binding::Grpc]
        .into_iter()
        .filter(|b| target.url(*b).is_ok())
        .map(|b| b.to_string())
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "harbor check {}: the card declares {}",
        target.base_url,
        if declared.is_empty() {
            "no binding".to_owned()
        } else {
            declared.join(", ")
        }
    );
    // area -> row -> column -> label, in the order of AREAS and of the report.
    let mut rows: Vec<(&str, Vec<Row>)> = Vec::new();
    for (area, _) in AREAS.iter().copied().chain([("other", &[][..])]) {
        let mut area_rows: Vec<Row> = Vec::new();
        for case in report.cases.iter().filter(|c| c.area() == area) {
            let column = COLUMNS
                .iter()
                .position(|(b, _)| *b == case.binding)
                .unwrap_or(0);
            let name = row_name(case);
            match area_rows.iter_mut().find(|(n, _)| *n == name) {
                Some((_, cells)) => cells[column] = label(&case.outcome),
                None => {
                    let mut cells = ["-"; 4];
                    cells[column] = label(&case.outcome);
                    area_rows.push((name, cells));
                }
            }
        }
        if !area_rows.is_empty() {
            rows.push((area, area_rows));
        }
    }
    let width = rows
        .iter()
        .flat_map(|(_, r)| r.iter().map(|(n, _)| n.len()))
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = write!(out, "\n{:<11}{:<width$}", "AREA", "CASE");
    for (_, title) in COLUMNS {
        let _ = write!(out, "  {title:<9}");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (area, area_rows) in &rows {
        for (i, (name, cells)) in area_rows.iter().enumerate() {
            let shown_area = if i == 0 { area } else { "" };
            let _ = write!(out, "{shown_area:<11}{name:<width$}");
            for cell in cells {
                let _ = write!(out, "  {cell:<9}");
            }
            out.truncate(out.trim_end().len());
            out.push('\n');
        }
    }
    let failures: Vec<&CaseReport> = report
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
        .collect();
    if !failures.is_empty() {
        out.push_str("\nFailures:\n");
        for case in failures {
            if let Outcome::Failed(why) = &case.outcome {
                let _ = writeln!(out, "FAIL {}: {}", case_name(case), one_line(why));
            }
        }
    }
    let mut skips: BTreeMap<String, usize> = BTreeMap::new();
    for case in &report.cases {
        if let Outcome::Skipped(why) = &case.outcome {
            *skips.entry(one_line(why)).or_default() += 1;
        }
    }
    if !skips.is_empty() {
        out.push_str("\nSkipped:\n");
        for (why, n) in skips {
            let _ = writeln!(out, "SKIP {n:>3} × {why}");
        }
    }
    let _ = write!(
        out,
        "\n{} passed, {} failed, {} skipped ({} cases in {:.1} s)",
        report.passed(),
        report.failed(),
        report.skipped(),
        report.cases.len(),
        elapsed.as_secs_f64()
    );
    out
}

/// The report as one JSON document; reasons are given whole.
pub(super) fn json(url: &str, report: &Report, elapsed: Duration) -> Value {
    let cases: Vec<Value> = report
        .cases
        .iter()
        .map(|case| {
            let reason = match &case.outcome {
                Outcome::Passed => Value::Null,
                Outcome::Failed(why) | Outcome::Skipped(why) => Value::String(why.clone()),
            };
            json!({
                "name": case.name,
                "area": case.area(),
                "binding": case.binding.map(|b| b.to_string()),
                "outcome": label(&case.outcome),
                "reason": reason,
                "elapsedMs": case.elapsed.as_millis() as u64,
            })
        })
        .collect();
    json!({
        "url": url,
        "passed": report.passed(),
        "failed": report.failed(),
        "skipped": report.skipped(),
        "elapsedMs": elapsed.as_millis() as u64,
        "cases": cases,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_fit_on_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
        let long = "x ".repeat(500);
        let line = one_line(&long);
        assert_eq!(line.chars().count(), REASON_CHARS);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn grpc_cases_share_the_row_of_the_case_they_mirror() {
        let case = |name: &'static str, binding| CaseReport {
            name,
            binding,
            outcome: Outcome::Passed,
            elapsed: Duration::ZERO,
        };
        assert_eq!(
            row_name(&case("grpc_stream_lifecycle", Some(Binding::Grpc))),
            "stream_lifecycle"
        );
        assert_eq!(
            row_name(&case("stream_lifecycle", Some(Binding::JsonRpc))),
            "stream_lifecycle"
        );
    }
}
