//! Finding contract files and the governance files that apply to them, and linting them.

use std::path::{Path, PathBuf};

use mesh_contract::lint::{Governance, LintResult, lint};
use mesh_contract::{Diagnostic, SourceReader};

use super::GovernanceArgs;
use crate::CliError;

/// Reads schema files relative to a contract's directory.
#[derive(Debug)]
pub struct DirReader(pub PathBuf);

impl SourceReader for DirReader {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

/// `*.odcs.yaml` / `*.odcs.yml` files under `paths` (files are taken as given), sorted.
pub fn contract_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| CliError::Contract(format!("{}: {e}", p.display())))?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(CliError::Contract(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(".odcs.yaml") || n.ends_with(".odcs.yml"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The first `name` in `start`'s directory or its ancestors.
fn find_upwards(start: &Path, name: &str) -> Option<PathBuf> {
    let dir = if start.is_dir() {
        start
    } else {
        start.parent()?
    };
    let abs = std::fs::canonicalize(dir).ok()?;
    abs.ancestors().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Loads the governance context: explicit files, else `policies.yaml` / `domains.yaml` found
/// next to (or above) the first contract. Findings in those files are returned as diagnostics.
pub fn governance(
    args: &GovernanceArgs,
    first: Option<&Path>,
) -> Result<(Governance, Vec<Diagnostic>), CliError> {
    let pick = |explicit: &Option<PathBuf>, name: &str| -> Option<PathBuf> {
        explicit
            .clone()
            .or_else(|| first.and_then(|f| find_upwards(f, name)))
    };
    let read = |p: &Option<PathBuf>| -> Result<Option<(String, String)>, CliError> {
        match p {
            None => Ok(None),
            Some(p) => std::fs::read_to_string(p)
                .map(|t| Some((p.display().to_string(), t)))
                .map_err(|e| CliError::Contract(format!("{}: {e}", p.display()))),
        }
    };
    let policies = read(&pick(&args.policies, "policies.yaml"))?;
    let domains = read(&pick(&args.domains, "domains.yaml"))?;
    Ok(Governance::load(
        policies.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
        domains.as_ref().map(|(n, t)| (n.as_str(), t.as_str())),
    ))
}

/// Lints one file from disk.
pub fn lint_path(path: &Path, gov: &Governance) -> LintResult {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            lint(&name, &text, &DirReader(dir), gov)
        }
        Err(e) => LintResult {
            contract: None,
            diagnostics: vec![Diagnostic::new(
                &name,
                mesh_contract::diag::Pos { line: 1, column: 1 },
                mesh_contract::Severity::Error,
                mesh_contract::diag::code::SCHEMA_FILE,
                format!("cannot read the contract: {e}"),
            )],
        },
    }
}

/// Lints every contract under `paths`: (file, result) pairs plus governance-file findings.
pub fn lint_all(
    paths: &[PathBuf],
    gov_args: &GovernanceArgs,
) -> Result<(Vec<(PathBuf, LintResult)>, Vec<Diagnostic>), CliError> {
    let files = contract_files(paths)?;
    if files.is_empty() {
        return Err(CliError::Contract(
            "no contract files (*.odcs.yaml) found".into(),
        ));
    }
    let (gov, findings) = governance(gov_args, files.first().map(PathBuf::as_path))?;
    let results = files
        .into_iter()
        .map(|f| {
            let r = lint_path(&f, &gov);
            (f, r)
        })
        .collect();
    Ok((results, findings))
}
