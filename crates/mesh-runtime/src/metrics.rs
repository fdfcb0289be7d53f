//! Metrics the runtime records for every service. Labels stay bounded: `route` is the matched
//! route template (never the raw path), `status` the numeric code.

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};

pub const HTTP_REQUESTS: &str = "mesh_http_requests_total";
pub const HTTP_DURATION: &str = "mesh_http_request_duration_seconds";
pub const BUILD_INFO: &str = "mesh_build_info";
pub const READY: &str = "mesh_ready";

pub(crate) fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests served, by service, route template, method and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency, by service, route template and method"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the labels carry the mesh version");
    describe_gauge!(
        READY,
        "1 when the service is ready (caught up on its Kafka state), else 0"
    );
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}
