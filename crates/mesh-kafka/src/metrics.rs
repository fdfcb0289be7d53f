//! Metrics of the Kafka plumbing. Labels: `pipeline` (a configured name, bounded) and `outcome`.

use metrics::{Unit, describe_counter, describe_histogram};

pub const RECORDS_IN: &str = "mesh_pipeline_records_in_total";
pub const RECORDS_OUT: &str = "mesh_pipeline_records_out_total";
pub const BATCHES: &str = "mesh_pipeline_batches_total";
pub const COMMIT_DURATION: &str = "mesh_pipeline_commit_duration_seconds";
pub const RESTARTS: &str = "mesh_pipeline_restarts_total";
pub const DATA_LOSS: &str = "mesh_pipeline_data_loss_records_total";
pub const TOPICS_PROVISIONED: &str = "mesh_topics_provisioned_total";

/// Registers descriptions; safe to call more than once.
pub fn describe() {
    describe_counter!(RECORDS_IN, "Records consumed by a pipeline and committed");
    describe_counter!(RECORDS_OUT, "Records produced by a pipeline and committed");
    describe_counter!(
        BATCHES,
        "Pipeline batches by outcome: committed, aborted (retried), failed"
    );
    describe_histogram!(
        COMMIT_DURATION,
        Unit::Seconds,
        "Time to commit one batch (transaction commit or flush + offset commit)"
    );
    describe_counter!(
        RESTARTS,
        "Pipeline restarts after a fatal client error (new producer, fenced predecessor)"
    );
    describe_counter!(
        DATA_LOSS,
        "Input records deleted (retention) before the pipeline read them"
    );
    describe_counter!(
        TOPICS_PROVISIONED,
        "Topics ensured, by outcome: created, existing"
    );
}
