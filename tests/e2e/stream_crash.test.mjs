// Crash test of stream delivery (docs/streams.md, "The guarantee"): four producers send
// records with unique ids continuously (native NDJSON, native JSON array, and two over the
// Firehose-compatible API with the official AWS SDK), while the server is killed with SIGKILL
// at random moments and restarted on the same home. At the end the delivered table is
// compared with the acknowledgements: every acknowledged id exactly once, an id that was sent
// but not acknowledged at most once, refused records never, nothing that was not sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';

import { createHome, login, sleep, startServer } from './lib/basin.mjs';

const STREAM = 'crash';
const TABLE = 'crash.events';
const KILLS = 5;
const encoder = new TextEncoder();

const randomInt = (low, high) => low + Math.floor(Math.random() * (high - low + 1));

describe('stream delivery survives SIGKILL', () => {
  let home;
  let server;
  let key; // eve's access key, for the Firehose producers
  before(async () => {
    home = await createHome({ label: 'basin-stream-crash-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    key = await home.json(['access-key', 'create', '--user', 'eve']);
    // Small buffers, so deliveries are under way while the server is killed; two partition
    // levels, so one delivery writes several objects.
    await home.ok(['stream', 'create', STREAM, '--table', TABLE, '--buffer-seconds', '1',
      '--prefix-expression', 'dt=!{timestamp:yyyy-MM-dd}/producer=!{field:from}/']);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    home?.cleanup();
  });

  test('every acknowledged record is delivered exactly once after kill -9s', { timeout: 120000 }, async (t) => {
    const started = Date.now();
    const sent = new Set(); // ids in a request that was sent (acknowledged or not)
    const acked = new Set(); // ids whose per-record result was OK
    const refused = new Set(); // ids the server refused (a record it cannot place)
    const problems = []; // answers that break the API's promises
    let failedRequests = 0; // connection errors, resets, HTTP errors: nothing acknowledged

    // What the producers talk to; replaced at each restart.
    const connect = async (running) => {
      const token = await login(running, 'eve', 'editor-password');
      const firehose = new FirehoseClient({
        endpoint: running.url,
        region: 'us-east-1',
        credentials: { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
        maxAttempts: 1, // a retry of a request whose answer was lost could deliver twice
      });
      return { url: running.url, token, firehose };
    };
    server = await startServer(home);
    let target = await connect(server);
    const retired = [];

    let producing = true;
    const makeRecords = (producer, from, count) => {
      const records = [];
      for (let n = from; n < from + count; n++) {
        const id = `${producer}-${String(n).padStart(6, '0')}`;
        // One record in 50 lacks the partition field: the server must refuse it alone.
        const bad = producer === 'p1' && n % 50 === 7;
        const record = { id, n, pad: 'x'.repeat(n % 97) };
        if (!bad) record.from = producer;
        records.push({ id, bad, text: JSON.stringify(record) });
        sent.add(id);
      }
      return records;
    };

    // Native API: an NDJSON body (p1) or a JSON array (p2).
    const nativeProducer = async (producer) => {
      let next = 0;
      while (producing) {
        const records = makeRecords(producer, next, randomInt(1, 150));
        next += records.length;
        const { url, token } = target;
        const body = producer === 'p1' ? records.map((r) => r.text).join('\n')
          : `[${records.map((r) => r.text).join(',')}]`;
        try {
          const response = await fetch(`${url}/api/streams/${STREAM}/records`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body,
            signal: AbortSignal.timeout(15000),
          });
          const text = await response.text();
          if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${text}`);
          const answer = JSON.parse(text);
          const failed = new Set(answer.errors.map((e) => e.index));
          if (answer.records !== records.length || answer.failed !== failed.size ||
              answer.accepted !== records.length - failed.size) {
            problems.push(`${producer}: counts do not add up: ${text.slice(0, 300)}`);
          }
          records.forEach((r, i) => {
            if (failed.has(i) !== r.bad) problems.push(`${producer}: ${r.id} bad=${r.bad} but failed=${failed.has(i)}`);
            if (failed.has(i)) refused.add(r.id);
            else acked.add(r.id);
          });
        } catch {
          failedRequests++;
        }
        await sleep(randomInt(5, 40));
      }
    };

    // Firehose PutRecordBatch with the AWS SDK.
    const firehoseProducer = async (producer) => {
      let next = 0;
      while (producing) {
        const records = makeRecords(producer, next, randomInt(1, 300));
        next += records.length;
        try {
          const answer = await target.firehose.send(new PutRecordBatchCommand({
            DeliveryStreamName: STREAM,
            Records: records.map((r) => ({ Data: encoder.encode(`${r.text}\n`) })),
          }), { abortSignal: AbortSignal.timeout(15000) });
          if (answer.RequestResponses.length !== records.length || answer.FailedPutCount !== 0) {
            problems.push(`${producer}: unexpected answer ${JSON.stringify(answer).slice(0, 300)}`);
          }
          answer.RequestResponses.forEach((r, i) => {
            if (r.RecordId && !r.ErrorCode) acked.add(records[i].id);
          });
        } catch {
          failedRequests++;
        }
        await sleep(randomInt(5, 40));
      }
    };

    const producers = [nativeProducer('p1'), nativeProducer('p2'), firehoseProducer('p3'),
      firehoseProducer('p4')];
    const ackedAt = [];
    try {
      for (let kill = 0; kill < KILLS; kill++) {
        // Kill at a random moment once this life has acknowledged something.
        const ackedBefore = acked.size;
        const deadline = Date.now() + 20000;
        while (acked.size === ackedBefore && Date.now() < deadline) await sleep(10);
        await sleep(randomInt(300, 2000));
        await server.stop('SIGKILL');
        ackedAt.push(acked.size);
        // Producers keep sending to the dead port meanwhile: connection refused.
        server = await startServer(home, { timeout: 30000 });
        retired.push(target);
        target = await connect(server);
      }
      await sleep(randomInt(300, 1000));
    } finally {
      producing = false;
      await Promise.all(producers);
    }
    ackedAt.push(acked.size);
    const producedMs = Date.now() - started;

    // One more crash with whatever is buffered, then a restart that must deliver it all.
    await server.stop('SIGKILL');
    server = await startServer(home, { timeout: 30000 });
    for (const old of [...retired, target]) old.firehose.destroy();
    const token = await login(server, home.admin.user, home.admin.password);
    let stats;
    const deadline = Date.now() + 45000;
    for (;;) {
      const described = await server.api('GET', `/api/streams/${STREAM}`, { token });
      assert.equal(described.status, 200, described.text);
      stats = described.body.stats;
      if (stats.buffered_records === 0 || Date.now() > deadline) break;
      await sleep(200);
    }
    assert.equal(stats.buffered_records, 0, `delivery did not finish: ${JSON.stringify(stats)}`);
    assert.equal(stats.last_delivery_error, '', JSON.stringify(stats));

    const answer = await server.api('POST', '/api/query', {
      token,
      json: { sql: `SELECT id, count(*) AS copies FROM ${TABLE} GROUP BY id ORDER BY id`, format: 'csv' },
    });
    assert.equal(answer.status, 200, answer.text.slice(0, 2000));
    const lines = answer.text.trim().split('\n');
    assert.equal(lines[0], 'id,copies');
    const delivered = new Map(lines.slice(1).map((line) => {
      const [id, copies] = line.split(',');
      return [id, Number(copies)];
    }));

    const twice = [...delivered].filter(([, copies]) => copies !== 1).map(([id, copies]) => `${id} x${copies}`);
    const missing = [...acked].filter((id) => !delivered.has(id));
    const unknown = [...delivered.keys()].filter((id) => !sent.has(id));
    const refusedDelivered = [...refused].filter((id) => delivered.has(id));
    const unackedDelivered = [...delivered.keys()].filter((id) => !acked.has(id)).length;
    t.diagnostic(`sent ${sent.size}, acknowledged ${acked.size} (after each kill: ${ackedAt.join(', ')}), ` +
      `refused ${refused.size}, delivered ${delivered.size} (of them not acknowledged: ${unackedDelivered}), ` +
      `failed requests ${failedRequests}, ${KILLS + 1} kills, producing ${producedMs} ms, ` +
      `total ${Date.now() - started} ms`);

    assert.deepEqual(problems, []);
    assert.deepEqual(twice.slice(0, 20), [], `${twice.length} ids delivered more than once`);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} acknowledged ids are missing`);
    assert.deepEqual(unknown.slice(0, 20), [], 'delivered ids that were never sent');
    assert.deepEqual(refusedDelivered.slice(0, 20), [], 'refused records were delivered');
    // Each life acknowledged something, so every kill hit a server with work to do.
    for (let i = 1; i < ackedAt.length; i++) {
      assert.ok(ackedAt[i] > ackedAt[i - 1], `nothing acknowledged between kills: ${ackedAt.join(', ')}`);
    }
    assert.ok(refused.size > 0, 'some records were refused');
  });
});
