//! The table `mesh contract diff|apply` ends with.

use super::apply::{Applied, Mode, Outcome};

/// The summary table printed at the end.
pub fn summary(outcomes: &[Outcome], mode: Mode) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.key.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut s = format!("{:<width$}  {:<12}  details\n", "product", "result");
    for o in outcomes {
        let first = o.details.first().map_or("", String::as_str);
        s.push_str(&format!(
            "{:<width$}  {:<12}  {first}\n",
            o.key,
            o.result.as_str()
        ));
        for d in o.details.iter().skip(1) {
            s.push_str(&format!("{:<width$}  {:<12}  {d}\n", "", ""));
        }
    }
    let count = |r: Applied| outcomes.iter().filter(|o| o.result == r).count();
    let changed = outcomes
        .iter()
        .filter(|o| {
            !matches!(
                o.result,
                Applied::Unchanged | Applied::Refused | Applied::Failed
            )
        })
        .count();
    if changed == 0 && count(Applied::Refused) == 0 && count(Applied::Failed) == 0 {
        s.push_str(match mode {
            Mode::Apply => "nothing changed: everything was already applied",
            Mode::Diff => "no changes: everything is applied",
        });
    } else {
        s.push_str(&format!(
            "{} {}, {} unchanged, {} refused, {} failed",
            changed,
            if mode == Mode::Apply {
                "changed"
            } else {
                "would change"
            },
            count(Applied::Unchanged),
            count(Applied::Refused),
            count(Applied::Failed)
        ));
    }
    s
}

/// The outcomes for machines: `[{"product": key, "result": ..., "details": [...]}]`.
pub fn json(outcomes: &[Outcome]) -> String {
    let v: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| serde_json::json!({"product": o.key, "result": o.result.as_str(), "details": o.details}))
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default()
}
