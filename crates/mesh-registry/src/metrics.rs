//! The registry's metrics. Labels are small fixed sets (never subjects or ids), so cardinality
//! stays bounded however many schemas are registered.

/// Registrations by outcome: `new` (a version was written), `existing` (idempotent), `error`.
pub const REGISTRATIONS: &str = "mesh_registry_registrations_total";
/// Lookups (`POST /subjects/{s}` and `GET /schemas/ids/{id}`) by kind and outcome.
pub const LOOKUPS: &str = "mesh_registry_lookups_total";
/// Compatibility checks by source (`register`, `endpoint`) and outcome (`compatible`, `incompatible`).
pub const COMPATIBILITY_CHECKS: &str = "mesh_registry_compatibility_checks_total";

pub fn registered(outcome: &'static str) {
    metrics::counter!(REGISTRATIONS, "outcome" => outcome).increment(1);
}

pub fn looked_up(kind: &'static str, found: bool) {
    let outcome = if found { "found" } else { "not_found" };
    metrics::counter!(LOOKUPS, "kind" => kind, "outcome" => outcome).increment(1);
}

pub fn compatibility_checked(source: &'static str, compatible: bool) {
    let outcome = if compatible {
        "compatible"
    } else {
        "incompatible"
    };
    metrics::counter!(COMPATIBILITY_CHECKS, "source" => source, "outcome" => outcome).increment(1);
}

/// `_schemas` records the tailer read, by outcome: `applied`, `skipped` (undecodable or a
/// keytype mesh does not apply), `lost` (a claim another instance made first).
pub const LOG_RECORDS: &str = "mesh_registry_log_records_total";

pub fn log_records(applied: u64, skipped: u64, lost: u64) {
    for (outcome, n) in [("applied", applied), ("skipped", skipped), ("lost", lost)] {
        if n > 0 {
            metrics::counter!(LOG_RECORDS, "outcome" => outcome).increment(n);
        }
    }
}
