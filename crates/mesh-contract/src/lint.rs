//! Everything `mesh contract lint` (and `apply`, before it changes anything) checks for one
//! contract: the document itself, its schema and rules, ownership and policies.

use crate::diag::{Diagnostic, Severity};
use crate::domains::Domains;
use crate::model::ResolvedContract;
use crate::policy::PolicySet;
use crate::{SourceReader, load_contract};

/// The governance context contracts are checked against.
#[derive(Debug)]
pub struct Governance {
    pub policies: PolicySet,
    /// `None` = no domains file: ownership is not checked.
    pub domains: Option<Domains>,
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            policies: PolicySet::builtin(),
            domains: None,
        }
    }
}

/// The result of linting one file.
#[derive(Debug)]
pub struct LintResult {
    pub contract: Option<ResolvedContract>,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl LintResult {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Lints one contract file.
pub fn lint(file: &str, text: &str, files: &dyn SourceReader, gov: &Governance) -> LintResult {
    let loaded = load_contract(file, text, files);
    let mut diags = loaded.diagnostics;
    if let Some(c) = &loaded.contract {
        let mut policies = gov.policies.clone();
        if let Some(domains) = &gov.domains {
            domains.check(c, loaded.tree.as_ref(), &mut diags);
            if let Some(d) = domains.domains.get(&c.domain) {
                // Tighten-only violations are reported against the domains file when it is
                // parsed; here the effective set is all that matters.
                let mut scratch = crate::Diagnostics::new(file);
                policies = policies.tightened(&d.policies, &mut scratch);
            }
        }
        policies.check(c, loaded.tree.as_ref(), &mut diags);
    }
    let mut diagnostics = diags.items;
    diagnostics.sort_by(|a, b| (a.line, a.column).cmp(&(b.line, b.column)));
    LintResult {
        contract: loaded.contract,
        diagnostics,
    }
}

impl Governance {
    /// Builds the governance context from an optional organisation policies file and an
    /// optional domains file (`(file name, text)`), returning the findings in those files
    /// (including domain policies that try to loosen the organisation's).
    pub fn load(
        policies_file: Option<(&str, &str)>,
        domains_file: Option<(&str, &str)>,
    ) -> (Self, Vec<Diagnostic>) {
        let mut findings = Vec::new();
        let policies = match policies_file {
            Some((name, text)) => {
                let (set, d) = PolicySet::with_org_file(name, text);
                findings.extend(d.items);
                set
            }
            None => PolicySet::builtin(),
        };
        let domains = domains_file.map(|(name, text)| {
            let (domains, mut d) = Domains::parse(name, text);
            for dom in domains.domains.values() {
                policies.tightened(&dom.policies, &mut d);
            }
            findings.extend(d.items);
            domains
        });
        (Self { policies, domains }, findings)
    }
}
