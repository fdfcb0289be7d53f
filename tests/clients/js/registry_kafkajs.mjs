// Wire-compatibility check: @kafkajs/confluent-schema-registry (the JavaScript client) against a
// registry.
//
// Usage: node registry_kafkajs.mjs http://127.0.0.1:8081
//
// Drives the registry only through the client's `SchemaRegistry`, as an application would, and
// checks what the Confluent Schema Registry REST API promises (shared/reference/registry-api.md
// §1.2, §1.4, §1.5, and §1.6 for the kafkajs register flow). One line per check; exits 1 with the
// failing check's name and reason at the first failure. Run by tests/registry_clients.rs
// (kafkajs_client_works); scripts/test installs the pinned client with `npm ci` here.
//
// The client caches schemas by id: every read that must reach the server uses a fresh client
// (`fresh()`), so a passing check means the registry answered it.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';

const URL = process.argv[2];
if (!URL) {
  console.error('usage: node registry_kafkajs.mjs REGISTRY_URL');
  process.exit(2);
}

const RUN = randomBytes(4).toString('hex');
let checks = 0;

/** A client with an empty cache and no retries, so a failure shows at once. */
function fresh() {
  return new SchemaRegistry({ host: URL, retry: { retries: 0 } });
}

async function check(name, fn) {
  let detail;
  try {
    detail = await fn();
  } catch (e) {
    console.log(`FAIL ${name}: ${e?.name ?? 'Error'}: ${e?.message ?? e}`);
    if (e?.status !== undefined) console.log(`     HTTP status ${e.status} (${e.url ?? '?'})`);
    if (e?.stack) console.log(e.stack);
    process.exit(1);
  }
  checks += 1;
  console.log(`ok   ${name}${detail ? ` (${detail})` : ''}`);
}

/** Runs fn, which must reject with the client's HTTP error of this status and a message. */
async function expectHttpError(fn, status) {
  let result;
  try {
    result = await fn();
  } catch (e) {
    assert.equal(e?.status, status, `expected HTTP ${status}, got ${e?.status}: ${e?.message}`);
    // The client puts the registry's `message` after "<clientId> - "; without one it falls back
    // to "Error, status N", which means the body was not the Confluent error envelope.
    assert.ok(typeof e.message === 'string' && e.message.includes(' - '), `no message: ${e.message}`);
    assert.ok(!/Error, status \d+/.test(e.message), `body is not the error envelope: ${e.message}`);
    return e;
  }
  assert.fail(`expected HTTP ${status}, got success: ${JSON.stringify(result)}`);
}

/** Confluent wire format: magic 0, big-endian id, payload. */
function assertFramed(buf, id) {
  assert.ok(Buffer.isBuffer(buf) && buf.length > 5, `not a framed payload: ${buf?.toString('hex')}`);
  assert.equal(buf[0], 0, 'magic byte');
  assert.equal(buf.readUInt32BE(1), id, 'schema id in the payload');
}

const USER_V1 = {
  type: 'record',
  name: 'User',
  namespace: 'mesh.test',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string' },
  ],
};
// Adds an optional field with a default: FULL compatible with V1.
const USER_V2 = {
  ...USER_V1,
  fields: [...USER_V1.fields, { name: 'email', type: ['null', 'string'], default: null }],
};
// Adds a field without a default: not BACKWARD (so not FULL) compatible with V1/V2.
const USER_BAD = { ...USER_V1, fields: [...USER_V1.fields, { name: 'age', type: 'int' }] };

const EVENT = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Event',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ['click', 'view'] },
  },
  required: ['id', 'kind'],
};

const avro = (schema) => ({ type: SchemaType.AVRO, schema: JSON.stringify(schema) });
const usersSubject = `js-${RUN}-users-value`;
const strictSubject = `js-${RUN}-strict-value`;
const eventsSubject = `js-${RUN}-events-value`;
const registry = fresh();
let v1Id;
let avroBytes;
let eventId;

// --- Avro --------------------------------------------------------------------------------------

await check('register Avro schema (SchemaType.AVRO)', async () => {
  // First registration: GET /config/{s} must 404, then the client registers and PUTs the level.
  const { id } = await registry.register(avro(USER_V1), { subject: usersSubject });
  assert.ok(Number.isInteger(id) && id > 0, `id ${id}`);
  v1Id = id;
  return `id ${id}`;
});

await check('register the same schema again gives the same id', async () => {
  // The subject now has a config (BACKWARD, from the client's PUT): the client reads it back
  // through GET /config/{s} and would throw if it did not match.
  const { id } = await fresh().register(avro(USER_V1), { subject: usersSubject });
  assert.equal(id, v1Id);
  return `id ${id}`;
});

await check('same schema under another subject gives the same id', async () => {
  const { id } = await fresh().register(avro(USER_V1), { subject: `js-${RUN}-other-value` });
  assert.equal(id, v1Id);
});

await check('Avro encode: magic byte 0 and the id', async () => {
  // A fresh client: encode fetches the schema by id from the registry.
  avroBytes = await fresh().encode(v1Id, { id: 7, name: 'ada' });
  assertFramed(avroBytes, v1Id);
  return `${avroBytes.length} bytes`;
});

await check('Avro decode round trip', async () => {
  const value = await fresh().decode(avroBytes);
  assert.deepEqual({ ...value }, { id: 7, name: 'ada' });
});

await check('getLatestSchemaId', async () => {
  assert.equal(await fresh().getLatestSchemaId(usersSubject), v1Id);
});

await check('getRegistryId(subject, version)', async () => {
  assert.equal(await fresh().getRegistryId(usersSubject, 1), v1Id);
  assert.equal(await fresh().getRegistryId(usersSubject, 'latest'), v1Id);
});

await check('getRegistryIdBySchema (lookup)', async () => {
  assert.equal(await fresh().getRegistryIdBySchema(usersSubject, avro(USER_V1)), v1Id);
});

await check('getSchema(id)', async () => {
  const schema = await fresh().getSchema(v1Id);
  assert.equal(schema.name, 'mesh.test.User');
  assert.deepEqual(
    schema.fields.map((f) => [f.name, f.type.typeName]),
    [
      ['id', 'long'],
      ['name', 'string'],
    ],
  );
});

await check('getSchema of an unknown id: HTTP 404', async () => {
  await expectHttpError(() => fresh().getSchema(2_000_000_000), 404);
});

// --- Compatibility -----------------------------------------------------------------------------

await check('register with compatibility FULL sets the subject level', async () => {
  await fresh().register(avro(USER_V1), { subject: strictSubject, compatibility: COMPATIBILITY.FULL });
  // The second register reads the level back: FULL passes, BACKWARD (the default) must not.
  const { id } = await fresh().register(avro(USER_V1), {
    subject: strictSubject,
    compatibility: COMPATIBILITY.FULL,
  });
  assert.equal(id, v1Id);
  await assert.rejects(
    fresh().register(avro(USER_V1), { subject: strictSubject }),
    (e) => e.name === 'ConfluentSchemaRegistryCompatibilityError' && /BACKWARD != FULL/.test(e.message),
  );
});

await check('register a compatible schema (FULL)', async () => {
  const { id } = await fresh().register(avro(USER_V2), {
    subject: strictSubject,
    compatibility: COMPATIBILITY.FULL,
  });
  assert.notEqual(id, v1Id);
  assert.equal(await fresh().getLatestSchemaId(strictSubject), id);
  assert.equal(await fresh().getRegistryId(strictSubject, 2), id);
  return `id ${id}`;
});

await check('register an incompatible schema: HTTP 409', async () => {
  const e = await expectHttpError(
    () => fresh().register(avro(USER_BAD), { subject: strictSubject, compatibility: COMPATIBILITY.FULL }),
    409,
  );
  return e.message;
});

// --- JSON Schema -------------------------------------------------------------------------------

await check('register JSON Schema (SchemaType.JSON)', async () => {
  const { id } = await registry.register(
    { type: SchemaType.JSON, schema: JSON.stringify(EVENT) },
    { subject: eventsSubject },
  );
  assert.ok(Number.isInteger(id) && id > 0 && id !== v1Id, `id ${id}`);
  eventId = id;
  assert.equal(await fresh().getLatestSchemaId(eventsSubject), id);
  return `id ${id}`;
});

await check('JSON encode/decode round trip', async () => {
  const event = { id: 1, kind: 'click' };
  const bytes = await fresh().encode(eventId, event);
  assertFramed(bytes, eventId);
  assert.deepEqual(JSON.parse(bytes.subarray(5).toString()), event);
  assert.deepEqual(await fresh().decode(bytes), event);
});

await check('JSON encode rejects a value the registered schema forbids', async () => {
  await assert.rejects(
    fresh().encode(eventId, { id: 'one', kind: 'click' }),
    (e) => e.name === 'ConfluentSchemaRegistryValidationError',
  );
});

console.log(`all ${checks} checks passed`);
