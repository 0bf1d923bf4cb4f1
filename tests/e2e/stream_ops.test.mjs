// End-to-end test of running streams: `basin stream put` (file and stdin) and `basin stream
// describe` with live stats from the running server; GET /metrics in Prometheus text; and
// back-pressure over HTTP: a full buffer, a full write-ahead log and a stream that cannot
// deliver answer 503 with Retry-After (ServiceUnavailableException to the AWS SDK client),
// and records are accepted again once delivery catches up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';

import { createHome, editConfig, login, sleep, startServer } from './lib/basin.mjs';

const encoder = new TextEncoder();

// Polls `probe` until it returns a truthy value (at most `ms`).
async function eventually(probe, ms = 20000, what = 'condition') {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

// A metric sample's value from Prometheus text, or undefined.
function sample(text, name, labels) {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('stream put, describe stats and /metrics', () => {
  let home;
  let server;
  let vic; // viewer
  before(async () => {
    home = await createHome({ label: 'basin-stream-ops-' });
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    await home.ok(['stream', 'create', 'clicks', '--table', 'web.clicks', '--buffer-seconds', '1',
      '--prefix-expression', '']);
    await home.ok(['stream', 'create', 'idle', '--table', 'web.idle']);
    server = await startServer(home);
    vic = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  // The table exists from the first delivery on: before it, -1.
  const count = async (sql) => {
    const answer = await server.api('POST', '/api/query', { token: vic, json: { sql } });
    if (answer.status === 400 && /does not exist/.test(answer.text)) return -1;
    assert.equal(answer.status, 200, answer.text);
    return Number(answer.body.rows[0][0]);
  };

  test('put sends a file in batches, names bad lines, and the records are delivered', async () => {
    const lines = [];
    for (let i = 0; i < 1200; i++) lines.push(JSON.stringify({ id: i, keyword: `kw-${i % 7}` }));
    lines.splice(700, 0, '{"id": broken');  // line 701
    lines.splice(10, 0, '');                // blank lines are skipped; line numbers still count
    const file = path.join(home.root, 'records.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const result = await home.run(['--json', 'stream', 'put', 'clicks', file]);
    assert.equal(result.code, 1, result.stderr);  // a failed record fails the command
    const report = JSON.parse(result.stdout);
    assert.equal(report.records, 1201);
    assert.equal(report.accepted, 1200);
    assert.equal(report.failed, 1);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0].line, 702);  // 700 records, the blank line, then the bad one
    assert.match(report.errors[0].message, /not valid JSON/);

    const stdin = '{"id": 5000}\n{"id": 5001}\n';
    const piped = await home.run(['stream', 'put', 'clicks', '-'], { input: stdin });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /sent 2 records to stream clicks .*2 accepted, 0 failed/);

    await eventually(async () => (await count('SELECT count(*) FROM web.clicks')) === 1202,
      20000, 'delivery of 1202 records');
    assert.equal(await count('SELECT count(DISTINCT id) FROM web.clicks'), 1202);
  });

  test('put reports an unknown stream and an unreachable server clearly', async () => {
    const file = path.join(home.root, 'one.ndjson');
    writeFileSync(file, '{"id": 1}\n');
    const unknown = await home.run(['stream', 'put', 'nope', file]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nope/);
    const unreachable = await home.run(['stream', 'put', 'clicks', file, '--url', 'http://127.0.0.1:9']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach the basin server at http:\/\/127\.0\.0\.1:9/);
  });

  test('describe shows the live stats of the running server', async () => {
    await eventually(async () => {
      const described = await home.json(['stream', 'describe', 'clicks']);
      return described.stats?.delivered_records === 1202 ? described : null;
    }, 20000, 'stats in describe');
    const described = await home.json(['stream', 'describe', 'clicks']);
    assert.equal(described.name, 'clicks');
    assert.equal(described.stats.incoming_records, 1203);
    assert.equal(described.stats.failed_records, 1);
    assert.equal(described.stats.buffered_records, 0);
    assert.ok(described.stats.delivered_objects >= 1);
    const text = await home.run(['stream', 'describe', 'clicks']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /delivered: +1202 records in \d+ object\(s\)/);
    assert.match(text.stdout, /last error: +-/);
  });

  test('/metrics: Prometheus text for every stream, behind authentication', async () => {
    const anonymous = await server.fetch('/metrics');
    assert.equal(anonymous.status, 401);
    const response = await server.fetch('/metrics', { token: vic });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^# HELP basin_stream_incoming_records_total /m);
    assert.match(text, /^# TYPE basin_stream_incoming_records_total counter$/m);
    assert.equal(sample(text, 'basin_stream_incoming_records_total', 'stream="clicks"'), 1203);
    assert.equal(sample(text, 'basin_stream_delivered_records_total', 'stream="clicks"'), 1202);
    assert.equal(sample(text, 'basin_stream_failed_records_total', 'stream="clicks"'), 1);
    assert.equal(sample(text, 'basin_stream_buffered_records', 'stream="clicks"'), 0);
    // A stream without traffic is listed with zeros.
    assert.equal(sample(text, 'basin_stream_incoming_records_total', 'stream="idle"'), 0);
    assert.match(text, /^basin_stream_buffer_limit_bytes 268435456$/m);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) {
      assert.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+$/, `not a sample line: ${line}`);
    }
  });

  test('describe without a running server says why there are no stats', async () => {
    await server.stop();
    const described = await home.json(['stream', 'describe', 'clicks']);
    assert.equal(described.stats, null);
    assert.match(described.stats_unavailable, /cannot reach the basin server/);
  });
});

describe('stream back-pressure over HTTP', () => {
  let home;
  let server;
  let eve; // editor token
  let firehose; // FirehoseClient with eve's access key
  const start = async (streams) => {
    editConfig(home, (text) => text.replace(/^streams:\n(  .*\n)*/m, `streams:\n${streams}`));
    server = await startServer(home);
    eve = await login(server, 'eve', 'editor-password');
    firehose?.destroy();
    firehose = new FirehoseClient({
      endpoint: server.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
      maxAttempts: 1,
    });
  };
  let key;
  before(async () => {
    home = await createHome({ label: 'basin-backpressure-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    key = await home.json(['access-key', 'create', '--user', 'eve']);
    await home.ok(['stream', 'create', 'slow', '--table', 'web.slow', '--buffer-seconds', '900',
      '--prefix-expression', '']);
  });
  after(async () => {
    firehose?.destroy();
    await server?.stop();
    home?.cleanup();
  });

  const post = (stream, records) => server.api('POST', `/api/streams/${stream}/records`, {
    token: eve, body: records.map((r) => JSON.stringify(r)).join('\n'),
    headers: { 'Content-Type': 'application/x-ndjson' },
  });
  const padded = (id) => ({ id, pad: 'x'.repeat(1000) });

  test('full buffers: 503 with Retry-After, ServiceUnavailableException; accepted after delivery',
    async () => {
      await start('  buffer_max_size: 4KiB\n');
      let refused;
      let accepted = 0;
      for (let i = 0; i < 10 && !refused; i++) {
        const answer = await post('slow', [padded(i)]);
        if (answer.status === 200) accepted++;
        else refused = answer;
      }
      assert.ok(refused, 'no request was refused');
      assert.equal(refused.status, 503, refused.text);
      assert.ok(Number(refused.headers.get('retry-after')) >= 1);
      assert.match(refused.body.error.message, /streams\.buffer_max_size/);
      await assert.rejects(
        firehose.send(new PutRecordBatchCommand({
          DeliveryStreamName: 'slow',
          Records: [{ Data: encoder.encode(JSON.stringify(padded(99))) }],
        })),
        (error) => error.name === 'ServiceUnavailableException' && error.$metadata.httpStatusCode === 503);
      // A graceful stop delivers the buffers; after the restart there is room again.
      await server.stop();
      await start('  buffer_max_size: 4KiB\n');
      assert.equal((await post('slow', [padded(100)])).status, 200);
      await server.stop();
      const count = await home.json(['query', 'SELECT count(*) AS n FROM web.slow']);
      assert.equal(Number(count[0].n), accepted + 1);
    });

  test('full write-ahead log: 503 naming the log', async () => {
    await start('  wal_max_size: 8KiB\n  wal_segment_size: 4KiB\n');
    // All at once: a log over half full delivers its oldest stream early (within a tick), so
    // requests one after the other might find room again.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post('slow', [padded(1000 + i)])));
    const refused = answers.find((answer) => answer.status !== 200);
    assert.ok(refused, 'no request was refused');
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.body.error.message, /write-ahead log is full/);
    assert.ok(refused.headers.get('retry-after'));
    await server.stop();
  });

  test('a stream that cannot deliver refuses records until it can', async () => {
    // The destination becomes a CSV table after the stream was made (a stream is refused
    // one that exists already): a Parquet stream cannot deliver into it.
    await home.ok(['stream', 'create', 'blocked', '--table', 'web.blocked', '--buffer-seconds', '0',
      '--prefix-expression', '']);
    await home.ok(['catalog', 'create-table', 'web.blocked', '--location', 'lake://elsewhere/',
      '--format', 'csv', '--column', 'id:BIGINT']);
    const refusedStream = await home.run(['stream', 'create', 'blocked2', '--table', 'web.blocked']);
    assert.notEqual(refusedStream.code, 0);
    assert.match(refusedStream.stderr, /cannot deliver into web\.blocked: the table is csv/);
    await start('  refuse_when_failing_for: 0s\n');
    assert.equal((await post('blocked', [{ id: 1 }])).status, 200);  // in the log
    await eventually(async () => {
      const described = await server.api('GET', '/api/streams/blocked', { token: eve });
      return described.body.stats?.refusing;
    }, 20000, 'the failing stream to refuse');
    const refused = await post('blocked', [{ id: 2 }]);
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.body.error.message, /cannot deliver.*csv/);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    // The same through the AWS SDK, with the stream's Retry-After on the raw answer.
    let firehoseHeaders;
    firehose.middlewareStack.add((next) => async (args) => {
      const out = await next(args);
      firehoseHeaders = out.response.headers;
      return out;
    }, { step: 'deserialize', priority: 'low', name: 'rawHeaders' });
    await assert.rejects(
      firehose.send(new PutRecordBatchCommand({
        DeliveryStreamName: 'blocked', Records: [{ Data: encoder.encode(JSON.stringify({ id: 4 })) }],
      })),
      (error) => error.name === 'ServiceUnavailableException' && /cannot deliver/.test(error.message));
    assert.ok(Number(firehoseHeaders?.['retry-after']) >= 1, JSON.stringify(firehoseHeaders));
    const metrics = await (await server.fetch('/metrics', { token: eve })).text();
    assert.equal(sample(metrics, 'basin_stream_refusing', 'stream="blocked"'), 1);
    assert.match(metrics, /^basin_stream_last_delivery_error\{stream="blocked",error=".*csv.*"\} 1$/m);
    // Other streams are not held up.
    assert.equal((await post('slow', [{ id: 5 }])).status, 200);
    // The table is removed: the next retry delivers, and records are accepted again.
    await home.ok(['catalog', 'drop-table', 'web.blocked']);
    await eventually(async () => (await post('blocked', [{ id: 3 }])).status === 200, 60000,
      'records accepted again');
    await server.stop();
    const ids = await home.json(['query',
      "SELECT string_agg(id::VARCHAR, ',' ORDER BY id) AS ids FROM web.blocked"]);
    assert.equal(ids[0].ids, '1,3');
  });
});
