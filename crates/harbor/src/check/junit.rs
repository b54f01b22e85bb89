//! The report of `harbor check` as JUnit XML: one `<testsuite>` per area, one
//! `<testcase>` per case and binding, with `<failure>` or `<skipped>` and the reason.

use std::fmt::Write as _;
use std::time::Duration;

use harbor_conformance::server::{AREAS, CaseReport, Outcome, Report};

use super::render::{case_name, one_line};

/// Escapes text for XML content and attributes, dropping the characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn counts(cases: &[&CaseReport]) -> (usize, usize) {
    let failed = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(_)))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Skipped(_)))
        .count();
    (failed, skipped)
}

/// The JUnit document for a run against `url`.
pub(super) fn render(url: &str, report: &Report, elapsed: Duration) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all: Vec<&CaseReport> = report.cases.iter().collect();
    let (failed, skipped) = counts(&all);
    let _ = writeln!(
        xml,
        "<testsuites name=\"harbor check {}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{}\">",
        escape(url),
        all.len(),
        seconds(elapsed)
    );
    let areas = AREAS.iter().map(|(area, _)| *area).chain(["other"]);
    for area in areas {
        let cases: Vec<&CaseReport> = report.cases.iter().filter(|c| c.area() == area).collect();
        if cases.is_empty() {
            continue;
        }
        let (failed, skipped) = counts(&cases);
        let time: Duration = cases.iter().map(|c| c.elapsed).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{area}\" tests=\"{}\" failures=\"{failed}\" skipped=\"{skipped}\" time=\"{}\">",
            cases.len(),
            seconds(time)
        );
        for case in cases {
            let _ = write!(
                xml,
                "    <testcase classname=\"harbor.check.{area}\" name=\"{}\" time=\"{}\"",
                escape(&case_name(case)),
                seconds(case.elapsed)
            );
            match &case.outcome {
                Outcome::Passed => xml.push_str("/>\n"),
                Outcome::Failed(why) => {
                    let _ = write!(
                        xml,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(&one_line(why)),
                        escape(why)
                    );
                }
                Outcome::Skipped(why) => {
                    let _ = write!(
                        xml,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                        escape(&one_line(why))
                    );
                }
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use harbor_conformance::server::Binding;

    use super::*;

    #[test]
    fn escapes_markup_and_drops_forbidden_characters() {
        assert_eq!(
            escape("a<b> & \"c\" 'd'\u{1}\te"),
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;\te"
        );
    }

    #[test]
    fn cases_go_in_their_area_with_their_outcome() {
        let case = |name: &'static str, binding, outcome| CaseReport {
            name,
            binding,
            outcome,
            elapsed: Duration::from_millis(5),
        };
        let report = Report {
            cases: vec![
                case("card_shape", None, Outcome::Passed),
                case(
                    "stream_lifecycle",
                    Some(Binding::HttpJson),
                    Outcome::Failed("it <broke>\nbadly".into()),
                ),
                case(
                    "grpc_stream_lifecycle",
                    Some(Binding::Grpc),
                    Outcome::Skipped("no GRPC interface".into()),
                ),
            ],
        };
        let xml = render("http://h:1", &report, Duration::from_secs(1));
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"harbor check http://h:1\" tests=\"3\" failures=\"1\" skipped=\"1\" time=\"1.000\">"), "{xml}");
        assert!(
            xml.contains("<testsuite name=\"card\" tests=\"1\" failures=\"0\" skipped=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"streaming\" tests=\"2\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<testcase classname=\"harbor.check.card\" name=\"card_shape\" time=\"0.005\"/>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains(
                "<failure message=\"it &lt;broke&gt; badly\">it &lt;broke&gt;\nbadly</failure>"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"grpc_stream_lifecycle [gRPC]\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"no GRPC interface\"/>"),
            "{xml}"
        );
        assert_eq!(
            xml.matches("<testsuite ").count(),
            xml.matches("</testsuite>").count()
        );
        assert!(xml.ends_with("</testsuites>\n"));
    }
}
