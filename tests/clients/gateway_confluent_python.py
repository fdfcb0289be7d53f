"""Real clients through the contract gateway: confluent-kafka-python's AvroSerializer produces to
a raw topic, AvroDeserializer reads the validated topic back.

Usage: python gateway_confluent_python.py BOOTSTRAP REGISTRY_URL RAW_TOPIC VALIDATED_TOPIC SCHEMA_FILE

Produces 3 valid orders and 1 that breaks the contract's `status-known` rule (auto-registering
the schema under RAW_TOPIC-value, TopicNameStrategy), then consumes VALIDATED_TOPIC
(read_committed) until the 3 valid orders arrive and checks every field. Prints one line per
check; exits 1 at the first failure. Run by tests/gateway_clients.rs.
"""

import sys
import time
import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

BOOTSTRAP, REGISTRY, RAW, VALIDATED, SCHEMA_FILE = sys.argv[1:6]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


schema = open(SCHEMA_FILE).read()
sr = SchemaRegistryClient({"url": REGISTRY})
ser = AvroSerializer(sr, schema, conf={"auto.register.schemas": True})
de = AvroDeserializer(sr)


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
producer = Producer({"bootstrap.servers": BOOTSTRAP})
ctx = SerializationContext(RAW, MessageField.VALUE)
for o in valid + [order(4, status="LOST")]:
    producer.produce(RAW, key=o["order_id"].encode(), value=ser(o, ctx))
if producer.flush(30) != 0:
    fail("produce did not complete")
print("ok produced 4 orders with AvroSerializer")

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
deadline = time.time() + 60
while len(got) < 3 and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        fail(f"consume: {m.error()}")
    value = de(m.value(), SerializationContext(VALIDATED, MessageField.VALUE))
    headers = dict(m.headers() or [])
    if headers.get("__mesh.source.topic") != RAW.encode():
        fail(f"provenance header missing: {headers}")
    got[value["order_id"]] = value
consumer.close()
if len(got) != 3:
    fail(f"read {len(got)} of 3 validated orders")
for o in valid:
    if got.get(o["order_id"]) != o:
        fail(f"order {o['order_id']}: read {got.get(o['order_id'])}, wrote {o}")
if str(uuid.UUID(int=4)) in got:
    fail("the order breaking status-known reached the validated topic")
print("ok AvroDeserializer read the 3 valid orders back, field for field")
