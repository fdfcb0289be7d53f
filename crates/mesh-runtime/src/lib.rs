//! What every mesh service shares, so that each service crate only holds its own logic.
//!
//! - [`config`]: typed configuration layered as built-in defaults → TOML file → `MESH_*`
//!   environment variables, where an unknown key is an error naming the key and where it came from.
//! - [`telemetry`]: `tracing` (human or JSON lines) and the process-wide `metrics` recorder
//!   rendered as Prometheus text.
//! - [`http`]: the axum server scaffold every service reuses, serving `/metrics`,
//!   `/health/live` and `/health/ready` next to the service's own routes.
//! - [`health`]: readiness — a service is ready only once each of its components (typically
//!   "caught up on my Kafka state") says so.
//! - [`shutdown`]: the shutdown tree: SIGINT/SIGTERM cancel a token, tasks drain within a grace
//!   period.
//! - [`problem`]: the `{"error": {code, message, details}}` envelope of mesh's own REST APIs.
//!
//! Service crates depend on this one; it depends on no other mesh crate.

pub mod config;
pub mod health;
pub mod http;
pub mod metrics;
pub mod problem;
pub mod shutdown;
pub mod telemetry;
pub mod time;

mod error;

pub use error::RuntimeError;
pub use health::Readiness;
pub use shutdown::Shutdown;
