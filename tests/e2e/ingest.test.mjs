// End-to-end test of stream ingest and delivery: a stream created with the CLI, records
// POSTed over HTTP (NDJSON and a JSON array, good and bad), delivered after buffer_seconds,
// queried with POST /api/query; bad records in the error prefix; a graceful stop delivers
// the buffers and a restart finds nothing to deliver twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createHome, login, sleep, startServer } from './lib/basin.mjs';

function filesUnder(dir) {
  let found = [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    found = found.concat(entry.isDirectory() ? filesUnder(full) : [full]);
  }
  return found;
}

describe('stream ingest and delivery', () => {
  let home;
  let server;
  let eve; // editor
  let vic; // viewer
  before(async () => {
    home = await createHome({ label: 'basin-ingest-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    await home.ok(['stream', 'create', 'clicks', '--table', 'web.clicks', '--buffer-seconds', '1',
      '--prefix-expression', 'event=!{field:type}/']);
    server = await startServer(home);
    eve = await login(server, 'eve', 'editor-password');
    vic = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  const count = async (sql) => {
    const answer = await server.api('POST', '/api/query', { token: vic, json: { sql } });
    assert.equal(answer.status, 200, answer.text);
    return answer.body.rows[0][0];
  };

  test('POST records, delivery after buffer_seconds, query, error prefix', async () => {
    const ndjson = ['{"id": 1, "type": "click"}', '{"id": 2, "type": "view"}', 'not json',
      '{"id": 3}', '', '{"id": 4, "type": "click"}'].join('\n');
    const posted = await server.api('POST', '/api/streams/clicks/records',
      { token: eve, body: ndjson, headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(posted.status, 200, posted.text);
    assert.equal(posted.body.records, 5);
    assert.equal(posted.body.accepted, 3);
    assert.equal(posted.body.failed, 2);
    assert.deepEqual(posted.body.errors.map((e) => e.index), [2, 3]);
    assert.equal(posted.body.errors[0].code, 'InvalidArgument');

    const array = await server.api('POST', '/api/streams/clicks/records',
      { token: eve, json: [{ id: 5, type: 'click' }, { id: 6, type: 'view' }, 7] });
    assert.equal(array.status, 200, array.text);
    assert.equal(array.body.accepted, 2);
    assert.equal(array.body.failed, 1);

    const viewer = await server.api('POST', '/api/streams/clicks/records', { token: vic, json: [{ id: 9 }] });
    assert.equal(viewer.status, 403, viewer.text);
    const missing = await server.api('POST', '/api/streams/nope/records', { token: eve, json: [{ id: 9 }] });
    assert.equal(missing.status, 404, missing.text);

    let stats;
    for (let i = 0; i < 100; i++) {
      const described = await server.api('GET', '/api/streams/clicks', { token: vic });
      assert.equal(described.status, 200, described.text);
      stats = described.body.stats;
      if (stats.delivered_records >= 5) break;
      await sleep(100);
    }
    assert.equal(stats.delivered_records, 5, JSON.stringify(stats));
    assert.equal(stats.failed_records, 3);
    assert.equal(stats.incoming_records, 8);
    assert.equal(stats.last_delivery_error, '');

    assert.equal(await count('SELECT count(*) FROM web.clicks'), '5');
    assert.equal(await count("SELECT count(*) FROM web.clicks WHERE event = 'click'"), '3');
    assert.equal(await count('SELECT count(DISTINCT id) FROM web.clicks'), '5');

    // The lake is a local folder (home.lake); refusals are delivered with the records, one
    // error object per delivery that had any.
    const errors = filesUnder(path.join(home.lake, 'streams', '_errors', 'clicks'));
    assert.ok(errors.length >= 1 && errors.length <= 2, `error objects: ${errors}`);
    for (const file of errors) assert.match(path.basename(file), /^delivery-clicks-\d{8}T\d{6}Z-\d{20}-\d{20}\.json$/);
    const lines = errors.flatMap((file) => readFileSync(file, 'utf8').trim().split('\n'));
    assert.equal(lines.length, 3, `error objects: ${errors}`);
    assert.ok(lines.some((line) => JSON.parse(line).raw === 'not json'), lines.join('\n'));
  });

  test('a graceful stop delivers the buffers; a restart does not deliver them again', async () => {
    await home.ok(['stream', 'create', 'slow', '--table', 'web.slow', '--buffer-seconds', '900',
      '--prefix-expression', '']);
    const posted = await server.api('POST', '/api/streams/slow/records',
      { token: eve, body: '{"id": 1}\n{"id": 2}\n' });
    assert.equal(posted.body.accepted, 2, posted.text);
    const stopped = await server.stop();
    assert.equal(stopped.code, 0);
    server = await startServer(home);
    vic = await login(server, 'vic', 'viewer-password');
    assert.equal(await count('SELECT count(*) FROM web.slow'), '2');
    await sleep(300);
    assert.equal(await count('SELECT count(*) FROM web.slow'), '2');
    assert.equal(await count('SELECT count(*) FROM web.clicks'), '5');
  });
});
