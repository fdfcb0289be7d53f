//! Metrics of the gateway. Labels: `product` (one per applied contract, bounded by the
//! contracts) and `outcome` (`valid` | `rejected`).

use metrics::{Counter, counter, describe_counter, describe_gauge};

pub const RECORDS: &str = "mesh_gateway_records_total";
pub const BYTES: &str = "mesh_gateway_bytes_total";
pub const RULE_FAILURES: &str = "mesh_gateway_rule_failures_total";
pub const WARNED: &str = "mesh_gateway_warned_total";
pub const REGISTRY_FETCHES: &str = "mesh_gateway_registry_fetches_total";
pub const REGISTRY_UNAVAILABLE: &str = "mesh_gateway_registry_unavailable_total";
pub const PIPELINES: &str = "mesh_gateway_pipelines";
pub const CONTRACT_ERRORS: &str = "mesh_gateway_contract_errors_total";
pub const LAST_EVENT_TIME: &str = "mesh_gateway_last_event_time_seconds";
pub const LATENCY_P99: &str = "mesh_gateway_latency_p99_seconds";
pub const DATA_LOSS: &str = "mesh_gateway_data_loss_records_total";
pub const SCHEMA_REFRESHES: &str = "mesh_gateway_schema_refreshes_total";

pub fn describe() {
    describe_counter!(
        RECORDS,
        "Records validated, by product and outcome (valid, rejected)"
    );
    describe_counter!(BYTES, "Key + value bytes validated, by product");
    describe_counter!(
        RULE_FAILURES,
        "Rule and violation-code failures, by product and rule"
    );
    describe_counter!(WARNED, "Valid records with a warn-rule failure, by product");
    describe_counter!(REGISTRY_FETCHES, "Schema lookups that missed the cache");
    describe_counter!(
        SCHEMA_REFRESHES,
        "Schema cache liveness refresh passes, by outcome (unchanged, changed, unavailable)"
    );
    describe_counter!(
        REGISTRY_UNAVAILABLE,
        "Batches paused because the schema registry could not be reached"
    );
    describe_gauge!(PIPELINES, "Product pipelines running in this instance");
    describe_counter!(
        CONTRACT_ERRORS,
        "_mesh.contracts records that could not be applied"
    );
    describe_gauge!(
        LAST_EVENT_TIME,
        "Newest record timestamp seen, by product (unix seconds)"
    );
    describe_gauge!(
        LATENCY_P99,
        "p99 record timestamp → validation latency of the last window"
    );
    describe_counter!(
        DATA_LOSS,
        "Raw records deleted (retention) before the gateway validated them, by product"
    );
}

/// One product's record counters, registered once (per stream processor, per HTTP request):
/// stream mode counts every record, and
/// looking a labelled counter up per record (owned label strings, a hashed registry lookup)
/// cost as much as validating the record.
#[derive(Clone, Debug)]
pub struct ProductCounters {
    valid: Counter,
    rejected: Counter,
    bytes: Counter,
}

impl ProductCounters {
    pub fn new(product: &str) -> Self {
        Self {
            valid: counter!(RECORDS, "product" => product.to_owned(), "outcome" => "valid"),
            rejected: counter!(RECORDS, "product" => product.to_owned(), "outcome" => "rejected"),
            bytes: counter!(BYTES, "product" => product.to_owned()),
        }
    }

    pub fn record(&self, valid: bool, bytes: usize) {
        if valid { &self.valid } else { &self.rejected }.increment(1);
        self.bytes.increment(bytes as u64);
    }
}

pub fn registry_fetch() {
    counter!(REGISTRY_FETCHES).increment(1);
}

pub fn schema_refresh(outcome: &'static str) {
    counter!(SCHEMA_REFRESHES, "outcome" => outcome).increment(1);
}

pub fn registry_unavailable() {
    counter!(REGISTRY_UNAVAILABLE).increment(1);
}

pub fn contract_error() {
    counter!(CONTRACT_ERRORS).increment(1);
}

pub const HTTP_REQUESTS: &str = "mesh_gateway_http_requests_total";
pub const HTTP_VIOLATIONS: &str = "mesh_gateway_http_violations_total";

pub fn describe_http() {
    describe_counter!(HTTP_REQUESTS, "HTTP produce requests, by status code");
    describe_counter!(
        HTTP_VIOLATIONS,
        "Violations in rejected HTTP produce events (not written to the DLQ), by product and rule"
    );
}

pub fn http_request(status: u16) {
    counter!(HTTP_REQUESTS, "status" => status.to_string()).increment(1);
}

pub fn http_violation(product: &str, rule: &str) {
    counter!(HTTP_VIOLATIONS, "product" => product.to_owned(), "rule" => rule.to_owned())
        .increment(1);
}

pub fn data_loss(product: &str, records: u64) {
    counter!(DATA_LOSS, "product" => product.to_owned()).increment(records);
}
