//! `mesh status`: the freshness API as a table (coloured on a terminal, plain when piped) or
//! JSON.

use std::fmt::Write as _;
use std::io::IsTerminal;

use clap::{Args, ValueEnum};
use mesh_freshness::model::Status;
use mesh_freshness::snapshot::{Overview, ProductView};

use crate::CliError;
use crate::config::MeshConfig;

#[derive(Clone, Debug, Args)]
pub struct StatusArgs {
    /// The freshness monitor (default: http://<freshness.listen>).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    #[arg(long, value_enum, default_value_t = StatusFormat::Table)]
    pub format: StatusFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// Fetches the overview and renders it; the error names the URL tried.
pub async fn run(config: &MeshConfig, args: &StatusArgs) -> Result<String, CliError> {
    let base = args.url.clone().unwrap_or_else(|| {
        let mut addr = config.freshness.listen;
        if addr.ip().is_unspecified() {
            addr.set_ip([127, 0, 0, 1].into());
        }
        format!("http://{addr}")
    });
    let url = format!("{}/api/v1/freshness", base.trim_end_matches('/'));
    let fail = |e: String| CliError::Status {
        url: url.clone(),
        message: e,
    };
    let resp = reqwest::get(&url).await.map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("HTTP {}", resp.status())));
    }
    let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
    let overview: Overview =
        serde_json::from_str(&text).map_err(|e| fail(format!("not a freshness overview: {e}")))?;
    Ok(match args.format {
        StatusFormat::Json => serde_json::to_string_pretty(&overview).unwrap_or(text) + "\n",
        StatusFormat::Table => table(&overview, std::io::stdout().is_terminal()),
    })
}

fn secs(s: Option<f64>) -> String {
    match s {
        None => "-".into(),
        Some(s) if s < 120.0 => format!("{s:.1}s"),
        Some(s) if s < 7_200.0 => format!("{:.1}m", s / 60.0),
        Some(s) => format!("{:.1}h", s / 3_600.0),
    }
}

fn colour(status: Status) -> &'static str {
    match status {
        Status::Fresh | Status::Idle => "\x1b[32m",
        Status::Warning | Status::Stopped | Status::NoData | Status::ClockSkew => "\x1b[33m",
        Status::Critical | Status::TopicMissing | Status::BrokerUnreachable => "\x1b[31m",
        Status::OutsideHours | Status::NoSla => "\x1b[2m",
    }
}

/// The table: one row per product.
pub fn table(o: &Overview, colour_on: bool) -> String {
    let header = [
        "PRODUCT",
        "STATUS",
        "AGE",
        "SLA warn/crit",
        "MAX LAG",
        "ALERTS",
    ];
    let rows: Vec<(Status, [String; 6])> = o
        .products
        .iter()
        .map(|p: &ProductView| {
            let sla = p.sla.as_ref().map_or("-".into(), |s| {
                format!(
                    "{}/{}",
                    secs(Some(s.warn_seconds)),
                    secs(Some(s.critical_seconds))
                )
            });
            let firing: Vec<String> = p
                .alerts
                .iter()
                .map(|a| {
                    let muted = if a.silenced { " (silenced)" } else { "" };
                    format!(
                        "{} {} {}{muted}",
                        a.state,
                        a.severity.as_str(),
                        a.kind.as_str()
                    )
                })
                .collect();
            (
                p.status,
                [
                    p.product.clone(),
                    p.status.as_str().to_owned(),
                    secs(p.age_seconds),
                    sla,
                    secs(p.max_lag_seconds()),
                    if firing.is_empty() {
                        "-".into()
                    } else {
                        firing.join(", ")
                    },
                ],
            )
        })
        .collect();
    let mut widths = header.map(str::len);
    for (_, r) in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &[String; 6], status: Option<Status>| {
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let padded = format!("{c:<w$}");
            match status {
                Some(s) if colour_on && i == 1 => {
                    let _ = write!(out, "{}{padded}\x1b[0m", colour(s));
                }
                _ => out.push_str(&padded),
            }
            out.push_str(if i + 1 < cells.len() { "  " } else { "" });
        }
        let trimmed = out.trim_end().len();
        out.truncate(trimmed);
        out.push('\n');
    };
    line(&mut out, &header.map(str::to_owned), None);
    for (s, r) in &rows {
        line(&mut out, r, Some(*s));
    }
    if rows.is_empty() {
        out.push_str("(no products with contracts yet)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overview() -> Overview {
        serde_json::from_value(serde_json::json!({
            "evaluatedAtMs": 0,
            "products": [{
                "product": "sales.orders", "domain": "sales", "team": "orders", "topic": "t",
                "status": "critical", "reason": null, "ageSeconds": 95.0,
                "sla": {"objectiveSeconds": 10.0, "warnSeconds": 10.0, "criticalSeconds": 60.0,
                        "forSeconds": 0.0, "allowedIdleSeconds": null, "activeHours": false},
                "partitions": [],
                "groups": [{"group": "billing", "status": "fresh", "lagSeconds": 2.0,
                            "offsetLag": 3, "lastCommitChangeMs": 0}],
                "alerts": [{"fingerprint": "f", "kind": "freshness",
                            "subject": {"type": "partition", "id": 0}, "state": "firing",
                            "severity": "critical", "sinceMs": 0, "silenced": false}]
            }]
        }))
        .unwrap()
    }

    #[test]
    fn plain_table_when_piped() {
        let t = table(&overview(), false);
        assert!(!t.contains('\x1b'));
        let lines: Vec<&str> = t.lines().collect();
        assert!(lines[0].starts_with("PRODUCT       STATUS"));
        assert!(lines[1].contains("sales.orders  critical  95.0s"), "{t}");
        assert!(
            lines[1].contains("10.0s/60.0s    2.0s     firing critical freshness"),
            "{t}"
        );
    }

    #[test]
    fn coloured_status_on_a_terminal() {
        let t = table(&overview(), true);
        assert!(t.contains("\x1b[31mcritical"), "{t}");
    }
}
