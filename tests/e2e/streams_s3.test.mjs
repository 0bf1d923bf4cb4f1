// End-to-end tests of delivery streams with a real S3 API server (s3rver) as the lake:
// native and Firehose (AWS SDK) ingest into a partitioned Parquet stream and into a gzipped
// NDJSON stream, checked object by object with the AWS SDK's ListObjectsV2 and by queries;
// refused records in the error prefix; kill -9 and restart delivering exactly once; and a lake
// that goes away (its own s3rver, killed and started again on the same folder and port):
// records are still acknowledged, the stream reports the error, and delivery resumes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

import {
  NO_S3_REASON, REPO_ROOT, createHome, login, removeDir, s3Env, s3TestServer, sleep, startServer,
  tempDir, uniqueId,
} from './lib/basin.mjs';

const encoder = new TextEncoder();
const utcDate = (ms) => new Date(ms).toISOString().slice(0, 10);

function s3Client(endpoint) {
  const s3 = s3TestServer();
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  });
  // s3rver checks a bucket-level request's signature against the path without the trailing
  // slash that the SDK sends ("/bucket/"), so list requests are sent as "/bucket".
  client.middlewareStack.add((next) => async (args) => {
    if (/^\/[^/]+\/$/.test(args.request.path)) args.request.path = args.request.path.slice(0, -1);
    return next(args);
  }, { step: 'build', name: 'bucketPathWithoutSlash' });
  return client;
}

/** Every object key below `prefix` in `bucket`, relative to `prefix`, sorted. */
async function listKeys(client, bucket, prefix) {
  const keys = [];
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) keys.push(object.Key.slice(prefix.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function getObject(client, bucket, key) {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body.transformToByteArray());
}

/** The stream's stats once nothing is buffered (and `ready(stats)` holds); fails after `ms`. */
async function waitDelivered(server, token, stream, { ms = 30000, ready = () => true } = {}) {
  const deadline = Date.now() + ms;
  let stats;
  for (;;) {
    const described = await server.api('GET', `/api/streams/${stream}`, { token });
    assert.equal(described.status, 200, described.text);
    stats = described.body.stats;
    if ((stats.buffered_records === 0 && ready(stats)) || Date.now() > deadline) break;
    await sleep(100);
  }
  assert.equal(stats.buffered_records, 0, `${stream}: delivery did not finish: ${JSON.stringify(stats)}`);
  assert.ok(ready(stats), `${stream}: ${JSON.stringify(stats)}`);
  return stats;
}

async function rows(server, token, sql) {
  const answer = await server.api('POST', '/api/query', { token, json: { sql } });
  assert.equal(answer.status, 200, `${sql}: ${answer.text}`);
  return answer.body.rows;
}

/** Posts records as NDJSON; returns the parsed answer (status 200 required). */
async function post(server, token, stream, records) {
  const answer = await server.api('POST', `/api/streams/${stream}/records`, {
    token, body: records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n'),
  });
  assert.equal(answer.status, 200, answer.text);
  return answer.body;
}

/** Delivered copies per id, from a query streamed as CSV (all rows). */
async function copiesById(server, token, table) {
  const answer = await server.api('POST', '/api/query', {
    token, json: { sql: `SELECT id, count(*) AS copies FROM ${table} GROUP BY id`, format: 'csv' },
  });
  assert.equal(answer.status, 200, answer.text.slice(0, 2000));
  const lines = answer.text.trim().split('\n');
  assert.equal(lines[0], 'id,copies');
  return new Map(lines.slice(1).map((line) => {
    const [id, copies] = line.split(',');
    return [id, Number(copies)];
  }));
}

/** Every id of `acked` exactly once, nothing else twice, nothing never sent. */
function assertExactlyOnce(copies, acked, sent) {
  const twice = [...copies].filter(([, n]) => n !== 1).map(([id, n]) => `${id} x${n}`);
  assert.deepEqual(twice.slice(0, 20), [], `${twice.length} ids delivered more than once`);
  const missing = [...acked].filter((id) => !copies.has(id));
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged ids are missing`);
  const unknown = [...copies.keys()].filter((id) => !sent.has(id));
  assert.deepEqual(unknown.slice(0, 20), [], 'delivered ids that were never sent');
}

describe('streams on an S3 lake', { skip: !s3TestServer() && NO_S3_REASON }, () => {
  let home;
  let server;
  let eve; // editor's session
  let firehose;
  let s3;
  let bucket;
  let root; // the lake's folder in the bucket, with a trailing '/'
  const startedAt = Date.now();
  before(async () => {
    bucket = s3TestServer().bucket;
    root = `${uniqueId('streams-')}/`;
    home = await createHome({ label: 'basin-streams-s3-', lake: `s3://${bucket}/${root.slice(0, -1)}`, env: s3Env() });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    const key = await home.json(['access-key', 'create', '--user', 'eve']);
    await home.ok(['stream', 'create', 'events', '--table', 'web.events', '--buffer-seconds', '1',
      '--prefix-expression', 'dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/']);
    await home.ok(['stream', 'create', 'logs', '--table', 'web.logs', '--buffer-seconds', '1',
      '--format', 'ndjson', '--compression', 'gzip']);
    await home.ok(['stream', 'create', 'crashy', '--table', 'web.crashy', '--buffer-seconds', '1',
      '--prefix-expression', 'shard=!{field:s}/']);
    server = await startServer(home);
    eve = await login(server, 'eve', 'editor-password');
    firehose = new FirehoseClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
      maxAttempts: 1,
    });
    s3 = s3Client(s3TestServer().endpoint);
  });
  after(async () => {
    firehose?.destroy();
    s3?.destroy();
    await server?.stop();
    home?.cleanup();
  });

  test('native and Firehose records into a partitioned Parquet stream; the error prefix', async () => {
    const types = ['click', 'view', 'like'];
    const native = Array.from({ length: 30 }, (_, n) => ({ id: `n-${n}`, type: types[n % 3], n }));
    const answer = await post(server, eve, 'events',
      [...native.slice(0, 10), 'not json', ...native.slice(10, 20), { id: 'no-type', n: 99 }, ...native.slice(20)]);
    assert.equal(answer.accepted, 30);
    assert.deepEqual(answer.errors.map((e) => e.index), [10, 21]);
    const batch = await firehose.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'events',
      Records: Array.from({ length: 20 }, (_, n) => ({
        Data: encoder.encode(`${JSON.stringify({ id: `f-${n}`, type: 'search', n: 100 + n })}\n`),
      })),
    }));
    assert.equal(batch.FailedPutCount, 0);

    const stats = await waitDelivered(server, eve, 'events', { ready: (s) => s.delivered_records >= 50 });
    assert.equal(stats.delivered_records, 50, JSON.stringify(stats));
    assert.equal(stats.failed_records, 2);
    assert.equal(stats.last_delivery_error, '');

    // Objects: <prefix>dt=<day>/event=<type>/events-<UTC time>-<first lsn>-<last lsn>.parquet.
    const keys = await listKeys(s3, bucket, `${root}streams/web/events/`);
    const days = new Set([utcDate(startedAt), utcDate(Date.now())]);
    const events = new Set();
    for (const key of keys) {
      const match = /^dt=(\d{4}-\d\d-\d\d)\/event=([a-z]+)\/events-\d{8}T\d{6}Z-(\d{20})-(\d{20})\.parquet$/.exec(key);
      assert.ok(match, `unexpected object ${key} in ${keys.join(', ')}`);
      assert.ok(days.has(match[1]), key);
      assert.ok(BigInt(match[3]) <= BigInt(match[4]), key);
      events.add(match[2]);
    }
    assert.deepEqual([...events].sort(), ['click', 'like', 'search', 'view'], keys.join(', '));

    assert.deepEqual(await rows(server, eve,
      'SELECT event, count(*), sum(n), count(DISTINCT id), min(type = event) FROM web.events GROUP BY event ORDER BY event'), [
      ['click', '10', '135', '10', 'true'],
      ['like', '10', '155', '10', 'true'],
      ['search', '20', '2190', '20', 'true'],
      ['view', '10', '145', '10', 'true'],
    ]);
    assert.deepEqual(await rows(server, eve,
      "SELECT count(*) FROM web.events WHERE event = 'search' AND id LIKE 'f-%'"), [['20']]);

    // The refused records: one object per delivery under the error prefix, with reasons.
    const errorKeys = await listKeys(s3, bucket, `${root}streams/_errors/events/`);
    assert.equal(errorKeys.length, 1, errorKeys.join(', '));
    assert.match(errorKeys[0], /^delivery-events-\d{8}T\d{6}Z-\d{20}-\d{20}\.json$/);
    const lines = (await getObject(s3, bucket, `${root}streams/_errors/events/${errorKeys[0]}`))
      .toString('utf8').trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(lines.map((l) => [l.index, l.code, l.raw]), [
      [10, 'InvalidArgument', 'not json'],
      [21, 'InvalidArgument', '{"id":"no-type","n":99}'],
    ]);
    assert.match(lines[0].reason, /not valid JSON/);
    assert.match(lines[1].reason, /type/);
  });

  test('a gzipped NDJSON stream', async () => {
    const records = Array.from({ length: 25 }, (_, n) => ({ id: `log-${n}`, level: n % 5 ? 'info' : 'warn', n }));
    assert.equal((await post(server, eve, 'logs', records.slice(0, 12))).accepted, 12);
    const batch = await firehose.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'logs',
      Records: records.slice(12).map((r) => ({ Data: encoder.encode(JSON.stringify(r)) })),
    }));
    assert.equal(batch.FailedPutCount, 0);
    await waitDelivered(server, eve, 'logs', { ready: (s) => s.delivered_records >= 25 });

    const prefix = `${root}streams/web/logs/`;
    const keys = await listKeys(s3, bucket, prefix);
    assert.ok(keys.length >= 1, 'objects delivered');
    const found = [];
    for (const key of keys) {
      assert.match(key, /^dt=\d{4}-\d\d-\d\d\/logs-\d{8}T\d{6}Z-\d{20}-\d{20}\.json\.gz$/);
      const text = gunzipSync(await getObject(s3, bucket, prefix + key)).toString('utf8');
      found.push(...text.trim().split('\n').map((line) => JSON.parse(line)));
    }
    assert.deepEqual(found.sort((a, b) => a.n - b.n), records);
    assert.deepEqual(await rows(server, eve, 'SELECT level, count(*), sum(n) FROM web.logs GROUP BY level ORDER BY level'),
      [['info', '20', '250'], ['warn', '5', '50']]);
  });

  test('a field added later rewrites the older objects of its partition (copies on S3)', async () => {
    await home.ok(['stream', 'create', 'growing', '--table', 'web.growing', '--buffer-seconds', '0',
      '--prefix-expression', 'event=!{field:type}/']);
    await post(server, eve, 'growing', [1, 2, 3].map((n) => ({ id: `g-${n}`, type: 'a', n })));
    await waitDelivered(server, eve, 'growing', { ready: (s) => s.delivered_records >= 3 });
    await post(server, eve, 'growing', [4, 5].map((n) => ({ id: `g-${n}`, type: 'a', n, extra: `x${n}` })));
    const stats = await waitDelivered(server, eve, 'growing', { ready: (s) => s.delivered_records >= 5 });
    assert.equal(stats.last_delivery_error, '');
    assert.deepEqual(await rows(server, eve, 'SELECT id, n, extra FROM web.growing ORDER BY id'), [
      ['g-1', '1', null], ['g-2', '2', null], ['g-3', '3', null], ['g-4', '4', 'x4'], ['g-5', '5', 'x5'],
    ]);
    const keys = await listKeys(s3, bucket, `${root}streams/web/growing/event=a/`);
    assert.equal(keys.length, 2, keys.join(', '));
    for (const key of keys) assert.match(key, /^growing-\d{8}T\d{6}Z-\d{20}-\d{20}\.parquet$/);
  });

  test('kill -9 while producing, restart: every acknowledged record exactly once', { timeout: 90000 }, async (t) => {
    const sent = new Set();
    const acked = new Set();
    let producing = true;
    let target = { server, token: eve };
    const producer = async (name) => {
      for (let n = 0; producing; ) {
        const size = 1 + Math.floor(Math.random() * 100);
        const records = Array.from({ length: size }, (_, i) => ({ id: `${name}-${n + i}`, s: `s${(n + i) % 3}`, n: n + i }));
        n += size;
        records.forEach((r) => sent.add(r.id));
        try {
          const response = await fetch(`${target.server.url}/api/streams/crashy/records`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${target.token}` },
            body: records.map((r) => JSON.stringify(r)).join('\n'),
            signal: AbortSignal.timeout(15000),
          });
          const answer = JSON.parse(await response.text());
          if (response.status === 200 && answer.failed === 0) records.forEach((r) => acked.add(r.id));
        } catch {
          // connection refused or reset: not acknowledged
        }
        await sleep(10 + Math.floor(Math.random() * 30));
      }
    };
    const producers = [producer('a'), producer('b')];
    try {
      for (let kill = 0; kill < 2; kill++) {
        const ackedBefore = acked.size;
        const deadline = Date.now() + 20000;
        while (acked.size === ackedBefore && Date.now() < deadline) await sleep(10);
        await sleep(500 + Math.floor(Math.random() * 1500));
        await server.stop('SIGKILL');
        server = await startServer(home, { timeout: 30000 });
        target = { server, token: await login(server, 'eve', 'editor-password') };
      }
      await sleep(500);
    } finally {
      producing = false;
      await Promise.all(producers);
    }
    await server.stop('SIGKILL');
    server = await startServer(home, { timeout: 30000 });
    eve = await login(server, 'eve', 'editor-password');
    firehose.destroy();
    firehose = null;
    const stats = await waitDelivered(server, eve, 'crashy', { ms: 45000 });
    assert.equal(stats.last_delivery_error, '');
    const copies = await copiesById(server, eve, 'web.crashy');
    t.diagnostic(`sent ${sent.size}, acknowledged ${acked.size}, delivered ${copies.size}`);
    assert.ok(acked.size > 0);
    assertExactlyOnce(copies, acked, sent);
    // The earlier streams' tables are untouched by the crashes.
    assert.deepEqual(await rows(server, eve, 'SELECT count(*) FROM web.events'), [['50']]);
    assert.deepEqual(await rows(server, eve, 'SELECT count(*) FROM web.logs'), [['25']]);
  });
});

/** Runs tests/e2e/s3rver.mjs on `dir` (at `port`, or one the OS picks); resolves to {port, proc}. */
async function startS3rver(dir, bucket, port = 0) {
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'tests/e2e/s3rver.mjs'), dir, bucket], {
    env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider', S3RVER_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const started = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`s3rver did not start; stderr: ${stderr}`));
    }, 20000);
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /"port":\s*(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
  return {
    port: started,
    async kill() {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

describe('a stream whose S3 lake becomes unreachable', { skip: !s3TestServer() && NO_S3_REASON }, () => {
  const bucket = 'basin-stream-lake';
  let dir;
  let lake; // the s3rver process
  let home;
  let server;
  let eve;
  before(async () => {
    dir = tempDir('basin-s3rver-');
    lake = await startS3rver(dir, bucket);
    home = await createHome({
      label: 'basin-streams-outage-',
      lake: `s3://${bucket}/lake`,
      env: s3Env({ AWS_ENDPOINT_URL: `http://127.0.0.1:${lake.port}` }),
    });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['stream', 'create', 'resilient', '--table', 'web.resilient', '--buffer-seconds', '1']);
    server = await startServer(home);
    eve = await login(server, 'eve', 'editor-password');
  });
  after(async () => {
    await server?.stop();
    await lake?.kill();
    home?.cleanup();
    removeDir(dir);
  });

  test('records are acknowledged while the lake is down; delivery resumes when it is back', { timeout: 120000 }, async () => {
    const batch = (from, count) => Array.from({ length: count }, (_, i) => ({ id: `r-${from + i}`, n: from + i }));
    assert.equal((await post(server, eve, 'resilient', batch(0, 50))).accepted, 50);
    await waitDelivered(server, eve, 'resilient', { ready: (s) => s.delivered_records === 50 });

    const port = lake.port;
    await lake.kill();
    lake = null;
    for (let i = 0; i < 3; i++) {
      const answer = await post(server, eve, 'resilient', batch(50 + 50 * i, 50));
      assert.equal(answer.accepted, 50, 'acknowledged: the records are in the write-ahead log');
    }
    let stats;
    const deadline = Date.now() + 30000;
    for (;;) {
      stats = (await server.api('GET', '/api/streams/resilient', { token: eve })).body.stats;
      if (stats.last_delivery_error !== '' || Date.now() > deadline) break;
      await sleep(100);
    }
    assert.notEqual(stats.last_delivery_error, '', `no delivery error reported: ${JSON.stringify(stats)}`);
    assert.equal(stats.buffered_records, 150, JSON.stringify(stats));
    assert.equal(stats.delivered_records, 50, JSON.stringify(stats));
    assert.ok(stats.oldest_undelivered_age_seconds > 0, JSON.stringify(stats));

    // The lake comes back where it was, with what it held.
    lake = await startS3rver(dir, bucket, port);
    stats = await waitDelivered(server, eve, 'resilient', { ms: 60000, ready: (s) => s.last_delivery_error === '' });
    assert.equal(stats.delivered_records, 200, JSON.stringify(stats));
    const copies = await copiesById(server, eve, 'web.resilient');
    const ids = new Set(batch(0, 200).map((r) => r.id));
    assertExactlyOnce(copies, ids, ids);
    assert.equal(copies.size, 200);

    const s3 = s3Client(`http://127.0.0.1:${port}`);
    try {
      const keys = await listKeys(s3, bucket, 'lake/streams/web/resilient/');
      assert.ok(keys.length >= 2, keys.join(', '));
      for (const key of keys) assert.match(key, /^dt=\d{4}-\d\d-\d\d\/resilient-\d{8}T\d{6}Z-\d{20}-\d{20}\.parquet$/);
    } finally {
      s3.destroy();
    }
  });
});
