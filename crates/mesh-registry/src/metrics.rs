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
