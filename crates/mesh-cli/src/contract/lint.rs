//! `mesh contract lint`: compiler-style diagnostics (or JSON), exit code 1 on errors.

use std::io::Write;
use std::process::ExitCode;

use mesh_contract::{Diagnostic, Severity};

use super::{LintArgs, OutputFormat, files, io_err};
use crate::CliError;

pub fn run(args: &LintArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    let (results, findings) = files::lint_all(&args.paths, &args.governance)?;
    let mut all: Vec<&Diagnostic> = findings.iter().collect();
    for (_, r) in &results {
        all.extend(r.diagnostics.iter());
    }
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = all
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    match args.format {
        OutputFormat::Json => {
            let doc = serde_json::json!({
                "files": results.iter().map(|(f, r)| serde_json::json!({
                    "file": f.display().to_string(),
                    "product": r.contract.as_ref().map(|c| c.product_id.clone()),
                    "ok": !r.has_errors(),
                })).collect::<Vec<_>>(),
                "diagnostics": all,
                "errors": errors,
                "warnings": warnings,
            });
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            )
            .map_err(io_err)?;
        }
        OutputFormat::Text => {
            for d in &all {
                writeln!(out, "{d}").map_err(io_err)?;
            }
            writeln!(
                out,
                "{} contract(s) checked: {errors} error(s), {warnings} warning(s)",
                results.len()
            )
            .map_err(io_err)?;
        }
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
