// End-to-end tests of delivery stream definitions: the CLI (create, list, describe, update,
// delete, with and without --json, and its errors) and the HTTP API with its roles, over one
// home shared by the server and the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createHome, describeRun, login, startServer } from './lib/basin.mjs';

describe('delivery stream definitions', () => {
  let home;
  let server;
  let admin;
  let eve; // editor
  let vic; // viewer
  before(async () => {
    home = await createHome({ label: 'basin-streams-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    server = await startServer(home);
    admin = await login(server, home.admin.user, home.admin.password);
    eve = await login(server, 'eve', 'editor-password');
    vic = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('CLI: create with defaults, describe, list, update, delete', async () => {
    const created = await home.json(['stream', 'create', 'clicks', '--table', 'web.clicks']);
    assert.equal(created.name, 'clicks');
    assert.equal(created.database, 'web');
    assert.equal(created.table, 'clicks');
    assert.equal(created.prefix, 'lake://streams/web/clicks/');
    assert.equal(created.prefix_expression, 'dt=!{timestamp:yyyy-MM-dd}/');
    assert.equal(created.error_prefix, 'lake://streams/_errors/clicks/');
    assert.equal(created.format, 'parquet');
    assert.equal(created.compression, 'none');
    assert.equal(created.buffer_seconds, 60);
    assert.equal(created.buffer_mib, 8);
    assert.equal(created.unknown_fields, 'add_column');
    assert.equal(created.max_record_bytes, 1024000);
    assert.deepEqual(created.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.match(created.created_at, /^\d{4}-\d\d-\d\dT/);

    const full = await home.json(['stream', 'create', 'events', '--table', 'web.events',
      '--prefix', 's3://bucket/events', '--prefix-expression', 'dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/',
      '--error-prefix', 'lake://errors/events/', '--format', 'ndjson', '--compression', 'zstd',
      '--buffer-seconds', '0', '--buffer-mib', '128', '--unknown-fields', 'error', '--max-record-bytes', '2048']);
    assert.equal(full.prefix, 's3://bucket/events/');
    assert.equal(full.format, 'ndjson');
    assert.equal(full.compression, 'zstd');
    assert.equal(full.buffer_seconds, 0);
    assert.equal(full.buffer_mib, 128);
    assert.equal(full.unknown_fields, 'error');
    assert.equal(full.max_record_bytes, 2048);
    assert.deepEqual(full.partition_keys, [{ name: 'dt', type: 'DATE' }, { name: 'event', type: 'VARCHAR' }]);

    const text = await home.ok(['stream', 'create', 'views', '--table', 'web.views']);
    assert.match(text.stdout, /created stream views -> web\.views/);

    const list = await home.json(['stream', 'list']);
    assert.deepEqual(list.map((s) => s.name), ['clicks', 'events', 'views']);
    const listText = await home.ok(['stream', 'list']);
    assert.match(listText.stdout, /^clicks\s+web\.clicks\s+parquet\s+60s\/8MiB/m);

    const described = await home.ok(['stream', 'describe', 'events']);
    assert.match(described.stdout, /table: +web\.events/);
    assert.match(described.stdout, /partition keys: +dt DATE, event VARCHAR/);
    assert.match(described.stdout, /format: +ndjson \(zstd\)/);

    const updated = await home.json(['stream', 'update', 'clicks', '--buffer-seconds', '5', '--table', 'web.clicks2']);
    assert.equal(updated.buffer_seconds, 5);
    assert.equal(updated.table, 'clicks2');
    assert.equal(updated.prefix, 'lake://streams/web/clicks2/', 'the default prefix follows the table');
    assert.equal(updated.buffer_mib, 8, 'flags left out stay');
    const again = await home.json(['stream', 'describe', 'clicks']);
    assert.equal(again.buffer_seconds, 5);

    const deleted = await home.json(['stream', 'delete', 'views']);
    assert.deepEqual(deleted, { deleted: 'views' });
    const gone = await home.run(['stream', 'describe', 'views']);
    assert.equal(gone.code, 1, describeRun(['stream', 'describe', 'views'], gone));
    assert.match(gone.stderr, /^basin: no stream named 'views' \(hint: /);
  });

  test('CLI: errors are one line with exit 1, usage errors exit 2', async () => {
    const cases = [
      [['stream', 'create', 'clicks', '--table', 'web.other'], /already exists/],
      [['stream', 'create', 'x', '--table', 'events'], /--table must be DATABASE\.TABLE/],
      [['stream', 'create', 'x', '--table', 'web.x', '--buffer-seconds', '901'], /buffer_seconds must be 0 to 900, got 901/],
      [['stream', 'create', 'x', '--table', 'web.x', '--buffer-mib', '0'], /buffer_mib must be 1 to 128/],
      [['stream', 'create', 'x', '--table', 'web.x', '--format', 'csv'], /format 'csv' is not one of: parquet, ndjson/],
      [['stream', 'create', 'x', '--table', 'web.x', '--compression', 'gzip'], /applies to format ndjson only/],
      [['stream', 'create', 'x', '--table', 'web.x', '--prefix-expression', 'a=!{timestamp:yyyy-QQ}/'], /prefix_expression: .*'QQ'.* at position 19/],
      [['stream', 'create', 'x', '--table', 'web.x', '--unknown-fields', 'drop'], /unknown_fields policy 'drop'/],
      [['stream', 'create', 'bad name', '--table', 'web.x'], /stream name/],
      [['stream', 'update', 'clicks'], /nothing to change/],
      [['stream', 'update', 'missing', '--buffer-mib', '2'], /no stream named 'missing'/],
      [['stream', 'delete', 'missing'], /no stream named 'missing'/],
    ];
    for (const [args, message] of cases) {
      const result = await home.run(args);
      assert.equal(result.code, 1, describeRun(args, result));
      assert.match(result.stderr, message, describeRun(args, result));
      assert.equal(result.stderr.trim().split('\n').length, 1, describeRun(args, result));
      assert.match(result.stderr, /\(hint: /);
    }
    const usage = await home.run(['stream', 'create', 'x']);
    assert.equal(usage.code, 2, describeRun(['stream', 'create', 'x'], usage));
    assert.match(usage.stderr, /--table is required/);
  });

  test('API: viewers read, editors create, update and delete', async () => {
    const body = { name: 'api_events', table: 'app.events', prefix_expression: 'event=!{partitionKeyFromQuery:type}/', buffer_seconds: 10 };
    const refused = await server.api('POST', '/api/streams', { token: vic, json: body });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error.code, 'PermissionDenied');
    const anonymous = await server.api('GET', '/api/streams');
    assert.equal(anonymous.status, 401, anonymous.text);

    const created = await server.api('POST', '/api/streams', { token: eve, json: body });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.database, 'app');
    assert.equal(created.body.table, 'events');
    assert.equal(created.body.prefix, 'lake://streams/app/events/');
    assert.deepEqual(created.body.partition_keys, [{ name: 'event', type: 'VARCHAR' }]);

    const duplicate = await server.api('POST', '/api/streams', { token: admin, json: body });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.equal(duplicate.body.error.code, 'AlreadyExists');
    for (const [bad, message] of [
      [{ ...body, name: 'other', buffer_mib: 500 }, /buffer_mib must be 1 to 128/],
      [{ ...body, name: 'other', prefix_expression: 'x=!{field:}/' }, /position 10/],
      [{ ...body, name: 'other', buffer_secs: 1 }, /unknown field 'buffer_secs'/],
      [{ name: 'other' }, /field 'table' is required/],
    ]) {
      const response = await server.api('POST', '/api/streams', { token: eve, json: bad });
      assert.equal(response.status, 400, response.text);
      assert.equal(response.body.error.code, 'InvalidArgument');
      assert.match(response.body.error.message, message);
    }
    const notJson = await server.api('POST', '/api/streams', { token: eve, body: '{nope', headers: { 'Content-Type': 'application/json' } });
    assert.equal(notJson.status, 400, notJson.text);

    const list = await server.api('GET', '/api/streams', { token: vic });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.streams.some((s) => s.name === 'api_events'));
    assert.ok(list.body.streams.some((s) => s.name === 'clicks'), 'streams the CLI created are there too');
    const one = await server.api('GET', '/api/streams/api_events', { token: vic });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.buffer_seconds, 10);
    assert.equal((await server.api('GET', '/api/streams/missing', { token: vic })).status, 404);

    for (const [method, json] of [['PUT', { buffer_seconds: 1 }], ['DELETE', undefined]]) {
      const byViewer = await server.api(method, '/api/streams/api_events', { token: vic, json });
      assert.equal(byViewer.status, 403, `${method} by a viewer: ${byViewer.text}`);
    }

    const updated = await server.api('PUT', '/api/streams/api_events', { token: eve, json: { format: 'ndjson', compression: 'gzip' } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.format, 'ndjson');
    assert.equal(updated.body.compression, 'gzip');
    assert.equal(updated.body.buffer_seconds, 10, 'fields left out stay');
    const roundTrip = await server.api('PUT', '/api/streams/api_events', { token: eve, json: { ...updated.body, buffer_mib: 2 } });
    assert.equal(roundTrip.status, 200, `a GET body sent back with a change: ${roundTrip.text}`);
    assert.equal(roundTrip.body.buffer_mib, 2);
    const rename = await server.api('PUT', '/api/streams/api_events', { token: eve, json: { name: 'renamed' } });
    assert.equal(rename.status, 400, rename.text);
    const invalid = await server.api('PUT', '/api/streams/api_events', { token: eve, json: { format: 'parquet' } });
    assert.equal(invalid.status, 400, invalid.text);
    assert.match(invalid.body.error.message, /compression 'gzip'/);
    assert.equal((await server.api('PUT', '/api/streams/missing', { token: eve, json: { buffer_mib: 2 } })).status, 404);

    const cli = await home.json(['stream', 'describe', 'api_events']);
    assert.equal(cli.buffer_mib, 2, 'the CLI sees what the API changed');

    const deleted = await server.api('DELETE', '/api/streams/api_events', { token: eve });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { deleted: 'api_events' });
    assert.equal((await server.api('DELETE', '/api/streams/api_events', { token: eve })).status, 404);
    assert.equal((await server.api('GET', '/api/streams/api_events', { token: vic })).status, 404);
  });
});
