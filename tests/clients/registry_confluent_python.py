"""Wire-compatibility check: confluent-kafka-python's schema registry client against a registry.

Usage: python registry_confluent_python.py http://127.0.0.1:8081
       (REGISTRY_CLIENTS_KEEP_GOING=1 runs every check and lists all failures at the end; later
       checks may then fail only because an earlier one did)

Drives the registry only through `SchemaRegistryClient` and the Avro/JSON serdes, as an
application would, and checks what the Confluent Schema Registry REST API promises
(shared/reference/registry-api.md §1, §1.5, §1.6). One line per check; exits 1 with the failing
check's name and reason at the first failure. Run by tests/registry_clients.rs
(python_confluent_client_works); installed by scripts/test into target/py.

The client caches ids, schemas and versions: every read that must reach the server uses a fresh
client (`fresh()`), so a passing check means the registry answered it.
"""

import json
import os
import struct
import sys
import traceback
import uuid

from confluent_kafka.schema_registry import (
    Schema,
    SchemaRegistryClient,
    SchemaRegistryError,
    ServerConfig,
    ConfigCompatibilityLevel,
)
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

URL = sys.argv[1] if len(sys.argv) > 1 else None
if not URL:
    sys.exit("usage: registry_confluent_python.py REGISTRY_URL")

RUN = uuid.uuid4().hex[:8]
KEEP_GOING = os.environ.get("REGISTRY_CLIENTS_KEEP_GOING") == "1"
CHECKS = 0
FAILED = []


class CheckFailed(Exception):
    pass


def fresh():
    """A client with empty caches (and no retries, so a failure shows at once)."""
    return SchemaRegistryClient({"url": URL, "max.retries": 0, "timeout": 10})


def check(name, fn):
    global CHECKS
    try:
        detail = fn()
    except Exception as e:  # noqa: BLE001 - report whatever the client raised
        print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc()
        if not KEEP_GOING:
            sys.exit(1)
        FAILED.append(name)
        return
    CHECKS += 1
    print(f"ok   {name}" + (f" ({detail})" if detail else ""), flush=True)


def expect_error(fn, http_status, error_codes):
    """Runs fn, which must raise SchemaRegistryError with this status and one of these codes."""
    if isinstance(error_codes, int):
        error_codes = (error_codes,)
    try:
        result = fn()
    except SchemaRegistryError as e:
        assert e.http_status_code == http_status and e.error_code in error_codes, (
            f"expected HTTP {http_status} / error_code {' or '.join(map(str, error_codes))}, "
            f"got HTTP {e.http_status_code} / error_code {e.error_code}: {e.error_message!r}"
        )
        assert isinstance(e.error_message, str) and e.error_message, "error has no message"
        return e
    raise AssertionError(
        f"expected HTTP {http_status} / error_code {error_codes}, but the call succeeded: {result!r}"
    )


def subject(name):
    return f"py-{RUN}-{name}"


def avro(fields, name="User", namespace="mesh.test"):
    return Schema(
        json.dumps({"type": "record", "name": name, "namespace": namespace, "fields": fields}),
        "AVRO",
    )


F_ID = {"name": "id", "type": "long"}
F_NAME = {"name": "name", "type": "string"}
F_EMAIL = {"name": "email", "type": ["null", "string"], "default": None}
F_AGE_REQUIRED = {"name": "age", "type": "int"}  # no default: a BACKWARD-incompatible addition
F_ID_AS_STRING = {"name": "id", "type": "string"}

V1 = avro([F_ID, F_NAME])
V2 = avro([F_ID, F_NAME, F_EMAIL])  # BACKWARD compatible with V1
V3_OK = avro([F_ID, F_NAME, F_EMAIL, {"name": "n", "type": "int", "default": 0}])
V3_BAD = avro([F_ID, F_NAME, F_EMAIL, F_AGE_REQUIRED])
V_BAD_TYPE = avro([F_ID_AS_STRING, F_NAME])


def same_schema(a, b):
    """Schemas as JSON values: the registry may re-serialise (key order, whitespace)."""
    return json.loads(a) == json.loads(b)


def main():
    s_users = subject("users-value")
    s_other = subject("other-value")
    ids = {}

    # --- basics ---------------------------------------------------------------------------------
    def schema_types():
        types = fresh().get_schema_types()
        assert "AVRO" in types and "JSON" in types, f"schema types {types!r}"
        return ",".join(types)

    check("get_schema_types lists AVRO and JSON", schema_types)

    # --- register, identity, idempotence --------------------------------------------------------
    def register_v1():
        ids[1] = fresh().register_schema(s_users, V1)
        assert isinstance(ids[1], int) and ids[1] > 0, f"id {ids[1]!r}"
        return f"id {ids[1]}"

    check("register_schema v1 returns an id", register_v1)

    def register_again():
        again = fresh().register_schema(s_users, V1)
        assert again == ids[1], f"re-register gave id {again}, first gave {ids[1]}"
        versions = fresh().get_versions(s_users)
        assert versions == [1], f"re-register created a version: {versions}"

    check("register_schema is idempotent (same id, no new version)", register_again)

    def register_full_response():
        rs = fresh().register_schema_full_response(s_users, V1)
        assert rs.schema_id == ids[1], f"id {rs.schema_id}"

    check("register_schema_full_response parses the answer", register_full_response)

    def register_reformatted():
        # The same schema with other whitespace and key order is the same schema (identity is
        # the parsed schema's canonical form, §1.5): same id, and no new version. Own subject,
        # so a failure here does not shift the version numbers checked below.
        s_fmt = subject("format-value")
        assert fresh().register_schema(s_fmt, V1) == ids[1]
        text = json.dumps(
            {"fields": [F_ID, F_NAME], "namespace": "mesh.test", "name": "User", "type": "record"},
            indent=2,
        )
        got = fresh().register_schema(s_fmt, Schema(text, "AVRO"))
        versions = fresh().get_versions(s_fmt)
        assert (got, versions) == (ids[1], [1]), (
            f"reformatted schema got id {got} (expected {ids[1]}), versions now {versions} (expected [1])"
        )
        rs = fresh().lookup_schema(s_fmt, Schema(text, "AVRO"))
        assert (rs.version, rs.schema_id) == (1, ids[1]), f"lookup: v{rs.version} id {rs.schema_id}"

    check("register_schema of a reformatted equal schema reuses id and version", register_reformatted)

    def register_normalized():
        # The client sends `normalize=True` (Python's spelling, §1.6) on register and lookup.
        # Whether a normalized registration matches an earlier non-normalized one is the
        # registry's canonical-form business, so this uses a subject of its own.
        s_norm = subject("normalized-value")
        sid = ids["normalized"] = fresh().register_schema(s_norm, V1, normalize_schemas=True)
        assert isinstance(sid, int) and sid > 0, f"id {sid!r}"
        assert fresh().register_schema(s_norm, V1, normalize_schemas=True) == sid
        rs = fresh().lookup_schema(s_norm, V1, normalize_schemas=True)
        assert (rs.version, rs.schema_id) == (1, sid), f"lookup: v{rs.version} id {rs.schema_id}"
        assert fresh().get_versions(s_norm) == [1]

    check("register_schema / lookup_schema with normalize=True", register_normalized)

    def same_id_other_subject():
        other = fresh().register_schema(s_other, V1)
        assert other == ids[1], f"same schema under another subject got id {other}, expected {ids[1]}"

    check("same schema under another subject gets the same id", same_id_other_subject)

    # --- reads ----------------------------------------------------------------------------------
    def get_by_id():
        s = fresh().get_schema(ids[1])
        assert s.schema_type == "AVRO", f"schema_type {s.schema_type!r}"
        assert same_schema(s.schema_str, V1.schema_str), f"schema {s.schema_str}"
        assert s.references == [], f"references {s.references!r}"

    check("get_schema by id", get_by_id)

    def get_by_id_with_subject():
        s = fresh().get_schema(ids[1], subject_name=s_users)
        assert same_schema(s.schema_str, V1.schema_str)

    check("get_schema by id with subject_name", get_by_id_with_subject)

    def subjects_by_id():
        subs = fresh().get_subjects_by_schema_id(ids[1])
        want = [s_users, s_other, subject("format-value")]
        if ids[1] == ids.get("normalized"):
            want.append(subject("normalized-value"))
        assert sorted(subs) == sorted(want), f"subjects {subs!r}"
        pairs = sorted((v.subject, v.version) for v in fresh().get_schema_versions(ids[1]))
        assert pairs == sorted((s, 1) for s in want), f"versions {pairs!r}"

    check("get_subjects_by_schema_id / get_schema_versions", subjects_by_id)

    check(
        "get_schema of an unknown id -> 404/40403",
        lambda: expect_error(lambda: fresh().get_schema(987654321), 404, 40403) and None,
    )

    def register_v2():
        ids[2] = fresh().register_schema(s_users, V2)
        assert ids[2] != ids[1], "a different schema got the same id"
        return f"id {ids[2]}"

    check("register_schema v2 (BACKWARD compatible)", register_v2)

    def latest():
        rs = fresh().get_latest_version(s_users)
        assert (rs.subject, rs.version, rs.schema_id) == (s_users, 2, ids[2]), (
            f"latest = {rs.subject} v{rs.version} id {rs.schema_id}"
        )
        assert rs.schema.schema_type == "AVRO"
        assert same_schema(rs.schema.schema_str, V2.schema_str)

    check("get_latest_version", latest)

    def version_1():
        rs = fresh().get_version(s_users, 1)
        assert (rs.subject, rs.version, rs.schema_id) == (s_users, 1, ids[1]), (
            f"v1 = {rs.subject} v{rs.version} id {rs.schema_id}"
        )
        assert same_schema(rs.schema.schema_str, V1.schema_str)
        rs = fresh().get_version(s_users, "latest")
        assert rs.version == 2

    check("get_version 1 and 'latest'", version_1)

    def versions():
        v = fresh().get_versions(s_users)
        assert v == [1, 2], f"versions {v}"

    check("get_versions", versions)

    check(
        "get_version of a missing version -> 404/40402",
        lambda: expect_error(lambda: fresh().get_version(s_users, 99), 404, 40402) and None,
    )
    check(
        "get_version with an invalid version -> 422/42202",
        lambda: expect_error(lambda: fresh().get_version(s_users, "abc"), 422, 42202) and None,
    )
    check(
        "get_latest_version of an unknown subject -> 404/40401",
        lambda: expect_error(lambda: fresh().get_latest_version(subject("nosuch")), 404, 40401) and None,
    )

    def lookup():
        rs = fresh().lookup_schema(s_users, V1)
        assert (rs.subject, rs.version, rs.schema_id) == (s_users, 1, ids[1]), (
            f"lookup = {rs.subject} v{rs.version} id {rs.schema_id}"
        )
        rs = fresh().lookup_schema(s_users, V2)
        assert (rs.version, rs.schema_id) == (2, ids[2])

    check("lookup_schema finds v1 and v2", lookup)

    check(
        "lookup_schema of an unregistered schema -> 404/40403",
        lambda: expect_error(lambda: fresh().lookup_schema(s_users, V3_OK), 404, 40403) and None,
    )
    check(
        "lookup_schema under an unknown subject -> 404/40401",
        lambda: expect_error(lambda: fresh().lookup_schema(subject("nosuch"), V1), 404, 40401) and None,
    )

    def list_subjects():
        subs = fresh().get_subjects()
        assert s_users in subs and s_other in subs, f"subjects {subs!r}"
        pref = fresh().get_subjects(subject_prefix=f"py-{RUN}-users")
        assert pref == [s_users], f"subjects with prefix: {pref!r}"

    check("get_subjects (and subject_prefix)", list_subjects)

    # --- compatibility --------------------------------------------------------------------------
    def compat_ok():
        assert fresh().test_compatibility(s_users, V3_OK) is True
        assert fresh().test_compatibility(s_users, V3_OK, version=2) is True
        assert fresh().test_compatibility_all_versions(s_users, V3_OK) is True

    check("test_compatibility: compatible schema -> True", compat_ok)

    def compat_bad():
        assert fresh().test_compatibility(s_users, V3_BAD) is False
        assert fresh().test_compatibility(s_users, V_BAD_TYPE, version=1) is False
        assert fresh().test_compatibility(s_users, V3_BAD, verbose=True) is False
        assert fresh().test_compatibility_all_versions(s_users, V3_BAD) is False

    check("test_compatibility: incompatible schema -> False", compat_bad)

    def register_incompatible():
        e = expect_error(lambda: fresh().register_schema(s_users, V3_BAD), 409, (409, 40901))
        assert "incompatible" in e.error_message.lower(), f"message {e.error_message!r}"
        assert fresh().get_versions(s_users) == [1, 2], "the incompatible schema was stored"
        return f"error_code {e.error_code}: {e.error_message[:100]}"

    check("register of an incompatible schema -> SchemaRegistryError 409", register_incompatible)

    def register_invalid():
        e = expect_error(
            lambda: fresh().register_schema(s_users, Schema('{"type": "record", "name": "X"', "AVRO")),
            422,
            42201,
        )
        return e.error_message[:80]

    check("register of an unparsable schema -> 422/42201", register_invalid)

    # --- config (compatibility level) -----------------------------------------------------------
    def config_global():
        level = fresh().get_compatibility()
        assert level == "BACKWARD", f"global compatibility {level!r}"
        cfg = fresh().get_config()
        assert cfg.compatibility_level == ConfigCompatibilityLevel.BACKWARD, f"config {cfg!r}"

    check("get_compatibility / get_config (global) -> BACKWARD", config_global)

    check(
        "get_config of a subject without its own config -> 404/40408",
        lambda: expect_error(lambda: fresh().get_config(s_users), 404, 40408) and None,
    )

    def config_subject():
        c = fresh()
        answer = c.set_compatibility(s_users, "FULL")
        # The client returns the response body: the PUT answer uses "compatibility".
        assert answer == {"compatibility": "FULL"}, f"PUT /config/{{s}} answered {answer!r}"
        assert fresh().get_compatibility(s_users) == "FULL"
        cfg = fresh().get_config(s_users)
        assert cfg.compatibility_level == ConfigCompatibilityLevel.FULL, f"config {cfg!r}"
        assert fresh().get_compatibility() == "BACKWARD", "subject config changed the global one"
        # FULL: V3_OK adds a defaulted field (compatible both ways); the V1 -> string id is not.
        assert fresh().test_compatibility(s_users, V3_OK) is True

    check("set_compatibility / get_compatibility (subject) FULL", config_subject)

    def set_config_obj():
        answer = fresh().set_config(s_users, ServerConfig(compatibility=ConfigCompatibilityLevel.NONE))
        assert answer.get("compatibility") == "NONE", f"answer {answer!r}"
        assert fresh().get_compatibility(s_users) == "NONE"
        # NONE: the incompatible schema is now accepted by the compatibility check.
        assert fresh().test_compatibility(s_users, V_BAD_TYPE) is True

    check("set_config (ServerConfig) NONE", set_config_obj)

    def config_new_subject():
        # kafkajs and others PUT a config before the subject has any schema.
        answer = fresh().set_compatibility(subject("future-value"), "BACKWARD_TRANSITIVE")
        assert answer == {"compatibility": "BACKWARD_TRANSITIVE"}, f"{answer!r}"
        assert fresh().get_compatibility(subject("future-value")) == "BACKWARD_TRANSITIVE"

    check("set_compatibility on a subject with no schemas yet", config_new_subject)

    check(
        "set_compatibility with an invalid level -> 422/42203",
        lambda: expect_error(lambda: fresh().set_compatibility(s_users, "SIDEWAYS"), 422, 42203) and None,
    )

    def delete_config():
        old = fresh().delete_config(s_users)
        assert old.compatibility_level == ConfigCompatibilityLevel.NONE or old.compatibility == (
            ConfigCompatibilityLevel.NONE
        ), f"DELETE /config/{{s}} returned {old!r}"
        expect_error(lambda: fresh().get_config(s_users), 404, 40408)
        assert fresh().get_compatibility() == "BACKWARD"

    check("delete_config (subject) returns the old config and removes it", delete_config)

    def config_global_roundtrip():
        c = fresh()
        assert c.set_compatibility(level="FORWARD") == {"compatibility": "FORWARD"}
        assert fresh().get_compatibility() == "FORWARD"
        assert fresh().set_compatibility(level="BACKWARD") == {"compatibility": "BACKWARD"}
        assert fresh().get_compatibility() == "BACKWARD"

    check("set_compatibility (global) and back", config_global_roundtrip)

    # --- mode -----------------------------------------------------------------------------------
    def mode_global():
        m = fresh().get_global_mode()
        assert m == "READWRITE", f"global mode {m!r}"

    check("get_global_mode -> READWRITE", mode_global)

    def mode_subject():
        s_ro = subject("readonly-value")
        fresh().register_schema(s_ro, V1)
        assert fresh().update_mode(s_ro, "READONLY") == "READONLY"
        assert fresh().get_mode(s_ro) == "READONLY"
        expect_error(lambda: fresh().register_schema(s_ro, V2), 422, 42205)
        # Reads still work in READONLY.
        assert fresh().get_latest_version(s_ro).version == 1
        old = fresh().delete_mode(s_ro)
        assert old == "READONLY", f"DELETE /mode/{{s}} returned {old!r}"
        expect_error(lambda: fresh().get_mode(s_ro), 404, 40409)
        assert fresh().register_schema(s_ro, V2) > 0

    check("update_mode / get_mode / delete_mode (subject), READONLY blocks register", mode_subject)

    check(
        "update_mode with an invalid mode -> 422/42204",
        lambda: expect_error(lambda: fresh().update_mode(s_users, "SOMETIMES"), 422, 42204) and None,
    )

    def mode_global_roundtrip():
        try:
            assert fresh().update_global_mode("READONLY") == "READONLY"
            assert fresh().get_global_mode() == "READONLY"
            expect_error(lambda: fresh().register_schema(subject("blocked-value"), V1), 422, 42205)
        finally:
            fresh().update_global_mode("READWRITE")
        assert fresh().get_global_mode() == "READWRITE"

    check("update_global_mode READONLY blocks register, then READWRITE", mode_global_roundtrip)

    # --- delete ---------------------------------------------------------------------------------
    def delete_version_soft():
        assert fresh().delete_version(s_users, 1) == 1
        assert fresh().get_versions(s_users) == [2]
        assert fresh().get_versions(s_users, deleted=True) == [1, 2]
        # A soft-deleted version's id still resolves.
        assert same_schema(fresh().get_schema(ids[1]).schema_str, V1.schema_str)
        expect_error(lambda: fresh().get_version(s_users, 1), 404, 40402)
        assert fresh().get_version(s_users, 1, deleted=True).schema_id == ids[1]

    check("delete_version (soft)", delete_version_soft)

    check(
        "delete_version permanent without soft delete first -> 404/40407",
        lambda: expect_error(lambda: fresh().delete_version(s_users, 2, permanent=True), 404, 40407)
        and None,
    )

    def delete_version_permanent():
        assert fresh().delete_version(s_users, 1, permanent=True) == 1
        assert fresh().get_versions(s_users, deleted=True) == [2]
        # Still live under s_other, so the id resolves.
        assert same_schema(fresh().get_schema(ids[1]).schema_str, V1.schema_str)

    check("delete_version (permanent, after soft)", delete_version_permanent)

    def register_after_delete():
        # Versions are never reused: v1 is gone, v2 is live, the next is 3.
        got = fresh().register_schema(s_users, V3_OK)
        rs = fresh().get_latest_version(s_users)
        assert (rs.version, rs.schema_id) == (3, got), f"latest v{rs.version} id {rs.schema_id}"

    check("register after delete takes the next version number", register_after_delete)

    check(
        "delete_subject permanent without soft delete first -> 404/40405",
        lambda: expect_error(lambda: fresh().delete_subject(s_other, permanent=True), 404, 40405) and None,
    )

    def delete_subject_soft():
        deleted = fresh().delete_subject(s_other)
        assert deleted == [1], f"DELETE /subjects/{{s}} returned {deleted!r}"
        assert s_other not in fresh().get_subjects()
        assert s_other in fresh().get_subjects(deleted=True)
        expect_error(lambda: fresh().get_latest_version(s_other), 404, 40401)
        expect_error(lambda: fresh().delete_subject(s_other), 404, 40404)

    check("delete_subject (soft)", delete_subject_soft)

    def delete_subject_permanent():
        deleted = fresh().delete_subject(s_other, permanent=True)
        assert deleted == [1], f"DELETE /subjects/{{s}}?permanent=true returned {deleted!r}"
        assert s_other not in fresh().get_subjects(deleted=True)
        expect_error(lambda: fresh().get_versions(s_other, deleted=True), 404, 40401)

    check("delete_subject (permanent, after soft)", delete_subject_permanent)

    # --- subject names that need URL encoding ----------------------------------------------------
    def odd_subject_name():
        s_odd = subject("päth/with spaces?&=#%-value")
        sid = fresh().register_schema(s_odd, V1)
        rs = fresh().get_latest_version(s_odd)
        assert (rs.subject, rs.schema_id) == (s_odd, sid), f"{rs.subject!r} id {rs.schema_id}"
        assert s_odd in fresh().get_subjects()
        assert fresh().lookup_schema(s_odd, V1).version == 1

    check("subject name with '/', space, '?', '&', '#', '%' and unicode", odd_subject_name)

    # --- contexts -------------------------------------------------------------------------------
    def contexts():
        ctx = fresh().get_contexts()
        assert "." in ctx, f"contexts {ctx!r}"

    check("get_contexts includes the default context", contexts)

    # --- Avro serde round trip through the registry ---------------------------------------------
    topic = f"py-{RUN}-orders"
    order_schema = json.dumps(
        {
            "type": "record",
            "name": "Order",
            "namespace": "mesh.test",
            "fields": [
                {"name": "id", "type": "long"},
                {"name": "item", "type": "string"},
                {"name": "qty", "type": "int"},
                {"name": "price", "type": "double"},
                {"name": "tags", "type": {"type": "array", "items": "string"}},
                {"name": "note", "type": ["null", "string"], "default": None},
                {
                    "name": "status",
                    "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]},
                },
            ],
        }
    )
    order = {
        "id": 42,
        "item": "widget",
        "qty": 3,
        "price": 9.5,
        "tags": ["a", "b"],
        "note": None,
        "status": "PAID",
    }
    val_ctx = SerializationContext(topic, MessageField.VALUE)
    key_ctx = SerializationContext(topic, MessageField.KEY)
    wire = {}

    def avro_serialize():
        ser = AvroSerializer(fresh(), order_schema, conf={"auto.register.schemas": True})
        data = ser(order, val_ctx)
        assert data[0] == 0, f"magic byte {data[0]}"
        (sid,) = struct.unpack(">I", data[1:5])
        rs = fresh().get_latest_version(f"{topic}-value")
        assert rs.schema_id == sid, f"payload id {sid}, registry latest id {rs.schema_id}"
        wire["value"] = data
        key_ser = AvroSerializer(fresh(), '"string"', conf={"auto.register.schemas": True})
        wire["key"] = key_ser("order-42", key_ctx)
        key_latest = fresh().get_latest_version(f"{topic}-key")
        assert key_latest.schema.schema_str.strip() in ('"string"', '{"type":"string"}'), (
            f"key schema {key_latest.schema.schema_str!r}"
        )
        return f"value schema id {sid}, {len(data)} bytes"

    check("AvroSerializer auto-registers <topic>-value and <topic>-key", avro_serialize)

    def avro_deserialize():
        de = AvroDeserializer(fresh())  # writer schema fetched from the registry by id
        got = de(wire["value"], val_ctx)
        assert got == order, f"round trip gave {got!r}"
        key = AvroDeserializer(fresh())(wire["key"], key_ctx)
        assert key == "order-42", f"key {key!r}"

    check("AvroDeserializer (writer schema by id) round trip", avro_deserialize)

    def avro_reader_schema():
        reader = json.loads(order_schema)
        reader["fields"].append({"name": "channel", "type": "string", "default": "web"})
        de = AvroDeserializer(fresh(), json.dumps(reader))
        got = de(wire["value"], val_ctx)
        assert got == {**order, "channel": "web"}, f"{got!r}"

    check("AvroDeserializer with an evolved reader schema", avro_reader_schema)

    def avro_lookup_path():
        # auto.register off: the serializer looks the schema up (POST /subjects/{s}).
        ser = AvroSerializer(fresh(), order_schema, conf={"auto.register.schemas": False})
        assert ser(order, val_ctx) == wire["value"]
        # use.latest.version: the serializer reads the latest version instead.
        ser = AvroSerializer(
            fresh(),
            order_schema,
            conf={"auto.register.schemas": False, "use.latest.version": True},
        )
        assert ser(order, val_ctx) == wire["value"]

    check("AvroSerializer with auto.register off (lookup) and use.latest.version", avro_lookup_path)

    def avro_unregistered():
        other = json.loads(order_schema)
        other["fields"].append({"name": "extra", "type": "int", "default": 1})
        ser = AvroSerializer(fresh(), json.dumps(other), conf={"auto.register.schemas": False})
        expect_error(lambda: ser({**order, "extra": 1}, val_ctx), 404, 40403)

    check("AvroSerializer with auto.register off and an unknown schema -> 40403", avro_unregistered)

    # --- JSON Schema serde round trip -----------------------------------------------------------
    jtopic = f"py-{RUN}-events"
    jctx = SerializationContext(jtopic, MessageField.VALUE)
    event_schema = json.dumps(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Event",
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": ["click", "view"]},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["id", "kind"],
            "additionalProperties": False,
        }
    )
    event = {"id": 7, "kind": "click", "tags": ["x"]}

    def json_round_trip():
        ser = JSONSerializer(event_schema, fresh(), conf={"auto.register.schemas": True})
        data = ser(event, jctx)
        assert data[0] == 0, f"magic byte {data[0]}"
        (sid,) = struct.unpack(">I", data[1:5])
        rs = fresh().get_latest_version(f"{jtopic}-value")
        assert rs.schema_id == sid and rs.schema.schema_type == "JSON", (
            f"payload id {sid}, latest id {rs.schema_id} type {rs.schema.schema_type!r}"
        )
        got = JSONDeserializer(None, schema_registry_client=fresh())(data, jctx)
        assert got == event, f"round trip gave {got!r}"
        return f"schema id {sid}"

    check("JSONSerializer / JSONDeserializer round trip", json_round_trip)

    if FAILED:
        print(f"{len(FAILED)} checks FAILED:", flush=True)
        for name in FAILED:
            print(f"  - {name}", flush=True)
        sys.exit(1)
    print(f"all {CHECKS} checks passed", flush=True)


if __name__ == "__main__":
    main()
