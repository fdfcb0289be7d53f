"""openlineage-python's HTTP transport against mesh-lineage: the wire-compatibility proof.

Usage: python lineage_openlineage_python.py URL TOKEN [BOOTSTRAP TOPIC]

Emits, through the unchanged client (gzip, api_key auth):
  - a BATCH job `orders.enrich` with START, RUNNING and COMPLETE for one run (reads
    orders.validated, writes orders.enriched with a schema and column lineage);
  - a STREAMING job `orders.gateway` with START then RUNNING only (no terminal event), naming
    the Kafka cluster by two brokers in different orders.
With BOOTSTRAP and TOPIC, also a START for `orders.kafka-emitter` through the client's Kafka
transport (confluent-kafka), written straight to the lineage topic.
Prints one line per check; exits non-zero at the first failure (the client raises on non-2xx).
"""

import sys

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Dataset, InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import column_lineage_dataset, job_type_job, schema_dataset
from openlineage.client.transport.http import (
    ApiKeyTokenProvider,
    HttpCompression,
    HttpConfig,
    HttpTransport,
)
from openlineage.client.uuid import generate_new_uuid
import datetime

URL, TOKEN = sys.argv[1], sys.argv[2]
PRODUCER = "https://example.invalid/mesh-tests/openlineage-python"

client = OpenLineageClient(
    transport=HttpTransport(
        HttpConfig(
            url=URL,
            auth=ApiKeyTokenProvider({"apiKey": TOKEN}),
            compression=HttpCompression.GZIP,
        )
    )
)


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def emit(state, run, job, inputs, outputs):
    client.emit(RunEvent(eventType=state, eventTime=now(), run=run, job=job, producer=PRODUCER,
                         inputs=inputs, outputs=outputs))
    print(f"emitted {state.value} for {job.name}")


# A batch job: START, RUNNING, COMPLETE.
batch_job = Job(namespace="domain-orders", name="orders.enrich", facets={
    "jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="SPARK", jobType="JOB"),
})
run = Run(runId=str(generate_new_uuid()))
validated = InputDataset(namespace="kafka://broker-1:9092", name="orders.validated")
enriched = OutputDataset(namespace="kafka://broker-1:9092", name="orders.enriched", facets={
    "schema": schema_dataset.SchemaDatasetFacet(fields=[
        schema_dataset.SchemaDatasetFacetFields(name="order_id", type="string"),
        schema_dataset.SchemaDatasetFacetFields(name="total", type="double"),
    ]),
    "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(fields={
        "total": column_lineage_dataset.Fields(inputFields=[
            column_lineage_dataset.InputField(namespace="kafka://broker-1:9092", name="orders.validated",
                                              field="price"),
        ]),
    }),
})
emit(RunState.START, run, batch_job, [validated], [])
emit(RunState.RUNNING, run, batch_job, [validated], [enriched])
emit(RunState.COMPLETE, run, batch_job, [validated], [enriched])

# A streaming job: START and RUNNING, never a terminal event; another broker order.
stream_job = Job(namespace="domain-orders", name="orders.gateway", facets={
    "jobType": job_type_job.JobTypeJobFacet(processingType="STREAMING", integration="KAFKA", jobType="JOB"),
})
srun = Run(runId=str(generate_new_uuid()))
raw = InputDataset(namespace="kafka://broker-2:9092,broker-1:9092", name="orders.raw")
out = OutputDataset(namespace="kafka://broker-2:9092,broker-1:9092", name="orders.validated")
emit(RunState.START, srun, stream_job, [raw], [out])
emit(RunState.RUNNING, srun, stream_job, [raw], [out])

if len(sys.argv) > 4:
    from openlineage.client.transport.kafka import KafkaConfig, KafkaTransport

    kafka = OpenLineageClient(transport=KafkaTransport(KafkaConfig(
        config={"bootstrap.servers": sys.argv[3]}, topic=sys.argv[4], flush=True)))
    kjob = Job(namespace="domain-orders", name="orders.kafka-emitter")
    kafka.emit(RunEvent(eventType=RunState.START, eventTime=now(), run=Run(runId=str(generate_new_uuid())),
                        job=kjob, producer=PRODUCER, inputs=[InputDataset(namespace="kafka://broker-1:9092",
                                                                        name="orders.enriched")], outputs=[]))
    print("emitted START for orders.kafka-emitter over the Kafka transport")

print(f"runs {run.runId} {srun.runId}")
print("ok")
