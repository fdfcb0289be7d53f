//! Tests of the Avro module, one file per concern.

mod canonical_cases;
mod compat_behaviour;
mod compat_cases;
mod java_form_cases;
mod normalize_cases;
mod parse_cases;
