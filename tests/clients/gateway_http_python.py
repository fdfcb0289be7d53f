"""HTTP produce from a non-Kafka client, read back by a real Kafka client.

Usage: python gateway_http_python.py GATEWAY_URL PRODUCT TOKEN BOOTSTRAP REGISTRY_URL VALIDATED_TOPIC

POSTs 3 orders as JSON with urllib (no Kafka library), checks the 200's offsets, POSTs a batch
with one order breaking `status-known` and checks the 422 lists it with its index, then reads
VALIDATED_TOPIC (read_committed) with confluent-kafka's AvroDeserializer: exactly the 3 orders,
field for field, at the offsets the gateway returned. Prints one line per check; exits 1 at the
first failure. Run by tests/gateway_http.rs.
"""

import json
import sys
import time
import urllib.error
import urllib.request
import uuid

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

GATEWAY, PRODUCT, TOKEN, BOOTSTRAP, REGISTRY, VALIDATED = sys.argv[1:7]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def post(events):
    req = urllib.request.Request(
        f"{GATEWAY}/api/v1/products/{PRODUCT}/events",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def order(n, status="PLACED"):
    return {
        "order_id": str(uuid.UUID(int=n)),
        "customer_id": f"c-{n}",
        "status": status,
        "currency": "EUR",
        "total": 10.5 * n,
        "items": [{"sku": f"sku-{n}", "quantity": n}],
        "coupon": None if n % 2 else f"C{n}",
        "placed_at": "2026-01-01T00:00:00Z",
    }


valid = [order(n) for n in (1, 2, 3)]
status, body = post([{"key": o["order_id"], "value": o} for o in valid])
if status != 200 or len(body.get("offsets", [])) != 3:
    fail(f"valid batch: {status} {body}")
offsets = {(o["partition"], o["offset"]): valid[o["index"]] for o in body["offsets"]}
print(f"ok 200 with offsets {sorted(offsets)}")

status, body = post([{"key": "k", "value": order(4)}, {"key": "k", "value": order(5, "LOST")}])
details = body.get("error", {}).get("details", [])
if status != 422 or not any(d["index"] == 1 and d["rule"] == "status-known" for d in details):
    fail(f"bad batch: {status} {body}")
print("ok 422 names event 1 and rule status-known")

de = AvroDeserializer(SchemaRegistryClient({"url": REGISTRY}))
consumer = Consumer(
    {
        "bootstrap.servers": BOOTSTRAP,
        "group.id": f"py-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
    }
)
consumer.subscribe([VALIDATED])
got = {}
deadline = time.time() + 30
while len(got) < 3 and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        fail(f"consume: {m.error()}")
    got[(m.partition(), m.offset())] = de(
        m.value(), SerializationContext(VALIDATED, MessageField.VALUE)
    )
time.sleep(1)
m = consumer.poll(1)
if m is not None and not m.error():
    fail(f"more than 3 records in {VALIDATED}: the rejected batch leaked")
consumer.close()
if got != offsets:
    fail(f"read {got}, expected {offsets}")
print("ok AvroDeserializer read exactly the 3 orders at the returned offsets, field for field")
