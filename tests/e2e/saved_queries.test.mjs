// End-to-end tests of saved queries (HTTP API with its permission rules, and the CLI) and of
// the query history's filters and fields, over one home shared by the server and the CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { createHome, login, startServer } from './lib/basin.mjs';

describe('saved queries and query history', () => {
  let home;
  let server;
  let admin;
  let eve; // editor
  let ed; // another editor
  let vic; // viewer
  before(async () => {
    home = await createHome({ label: 'basin-saved-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['user', 'create', 'ed', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    server = await startServer(home);
    admin = await login(server, home.admin.user, home.admin.password);
    eve = await login(server, 'eve', 'editor-password');
    ed = await login(server, 'ed', 'editor-password');
    vic = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  const daily = { name: 'daily_orders', sql: 'SELECT 1 AS n', description: 'Orders per day', database: 'shop' };

  test('API: viewers read, editors create, owners and admins change and delete', async () => {
    const refused = await server.api('POST', '/api/saved-queries', { token: vic, json: daily });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error.code, 'PermissionDenied');

    const created = await server.api('POST', '/api/saved-queries', { token: eve, json: daily });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.name, 'daily_orders');
    assert.equal(created.body.owner, 'eve');
    assert.equal(created.body.database, 'shop');
    assert.match(created.body.created_at, /^\d{4}-\d\d-\d\dT/);

    const duplicate = await server.api('POST', '/api/saved-queries', { token: ed, json: { ...daily, name: 'Daily_Orders' } });
    assert.equal(duplicate.status, 409, duplicate.text);
    assert.equal(duplicate.body.error.code, 'AlreadyExists');
    const badName = await server.api('POST', '/api/saved-queries', { token: eve, json: { name: 'a b', sql: 'SELECT 1' } });
    assert.equal(badName.status, 400, badName.text);
    const noSql = await server.api('POST', '/api/saved-queries', { token: eve, json: { name: 'nosql' } });
    assert.equal(noSql.status, 400, noSql.text);

    const list = await server.api('GET', '/api/saved-queries', { token: vic });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.saved_queries.map((q) => q.name), ['daily_orders']);
    const found = await server.api('GET', '/api/saved-queries?search=PER%20DAY', { token: vic });
    assert.equal(found.body.saved_queries.length, 1);
    const none = await server.api('GET', '/api/saved-queries?search=nothing', { token: vic });
    assert.deepEqual(none.body.saved_queries, []);
    const one = await server.api('GET', '/api/saved-queries/daily_orders', { token: vic });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.body.sql, 'SELECT 1 AS n');
    assert.equal((await server.api('GET', '/api/saved-queries/missing', { token: vic })).status, 404);

    for (const [method, json] of [['PUT', { sql: 'SELECT 2' }], ['DELETE', undefined]]) {
      const byViewer = await server.api(method, '/api/saved-queries/daily_orders', { token: vic, json });
      assert.equal(byViewer.status, 403, `${method} by a viewer: ${byViewer.text}`);
      const byOtherEditor = await server.api(method, '/api/saved-queries/daily_orders', { token: ed, json });
      assert.equal(byOtherEditor.status, 403, `${method} by another editor: ${byOtherEditor.text}`);
      assert.match(byOtherEditor.body.error.message, /owner \('eve'\) or an admin/);
    }

    const updated = await server.api('PUT', '/api/saved-queries/daily_orders', { token: eve, json: { description: 'Orders, daily' } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.description, 'Orders, daily');
    assert.equal(updated.body.sql, 'SELECT 1 AS n', 'fields left out stay');
    const badField = await server.api('PUT', '/api/saved-queries/daily_orders', { token: eve, json: { sql: 42 } });
    assert.equal(badField.status, 400, badField.text);

    const renamed = await server.api('PUT', '/api/saved-queries/daily_orders', { token: admin, json: { name: 'orders_daily', sql: 'SELECT 3 AS n' } });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.owner, 'eve', 'an admin edit keeps the owner');
    assert.equal((await server.api('GET', '/api/saved-queries/daily_orders', { token: vic })).status, 404);

    const deleted = await server.api('DELETE', '/api/saved-queries/orders_daily', { token: admin });
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { deleted: 'orders_daily' });
    assert.equal((await server.api('GET', '/api/saved-queries/orders_daily', { token: vic })).status, 404);

    await server.api('POST', '/api/saved-queries', { token: eve, json: { name: 'mine', sql: 'SELECT 1' } });
    const own = await server.api('DELETE', '/api/saved-queries/mine', { token: eve });
    assert.equal(own.status, 200, own.text);
  });

  test('CLI: save, replace, list, show, delete; the server sees the same queries', async () => {
    const saved = await home.json(['saved-query', 'save', 'top_keywords', '--sql', 'SELECT 42 AS answer',
      '--description', 'Top keywords', '--database', 'shop']);
    assert.equal(saved.owner, 'local');
    assert.equal(saved.sql, 'SELECT 42 AS answer');

    const again = await home.run(['saved-query', 'save', 'top_keywords', '--sql', 'SELECT 1']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^basin: saved query 'top_keywords' already exists \(hint: .*\)\n$/);
    const file = path.join(home.root, 'top.sql');
    writeFileSync(file, 'SELECT 43 AS answer\n');
    const replaced = await home.ok(['saved-query', 'save', 'top_keywords', '-f', file, '--replace']);
    assert.match(replaced.stdout, /replaced query top_keywords/);
    await home.ok(['saved-query', 'save', 'from_stdin', '-f', '-'], { input: 'SELECT 44' });

    const shown = await home.ok(['saved-query', 'show', 'top_keywords']);
    assert.match(shown.stdout, /owner: +local/);
    assert.match(shown.stdout, /\n\nSELECT 43 AS answer\n$/);
    const listed = await home.json(['saved-query', 'list']);
    assert.deepEqual(listed.map((q) => q.name), ['from_stdin', 'top_keywords']);
    assert.equal(listed[1].description, '', '--replace without --description clears it');
    const searched = await home.json(['saved-query', 'list', '--search', '44']);
    assert.deepEqual(searched.map((q) => q.name), ['from_stdin']);

    const overHttp = await server.api('GET', '/api/saved-queries/top_keywords', { token: vic });
    assert.equal(overHttp.body.sql, 'SELECT 43 AS answer\n');
    const notOwner = await server.api('DELETE', '/api/saved-queries/top_keywords', { token: eve });
    assert.equal(notOwner.status, 403, 'queries saved from the CLI belong to "local"');

    await home.ok(['saved-query', 'delete', 'top_keywords']);
    const gone = await home.run(['saved-query', 'show', 'top_keywords']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no saved query named 'top_keywords'/);
    assert.deepEqual(await home.json(['saved-query', 'delete', 'from_stdin']), { deleted: 'from_stdin' });
    assert.deepEqual(await home.json(['saved-query', 'list']), []);
  });

  test('CLI: basin query --saved runs a saved query', async () => {
    await home.ok(['saved-query', 'save', 'the_answer', '--sql', 'SELECT 40 + 2 AS answer']);
    assert.deepEqual(await home.json(['query', '--saved', 'the_answer']), [{ answer: '42' }]);
    const missing = await home.run(['query', '--saved', 'no_such_query']);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /no_such_query/);
    await home.ok(['saved-query', 'delete', 'the_answer']);
  });

  test('CLI: usage errors exit 2, bad input exits 1', async () => {
    const neither = await home.run(['saved-query', 'save', 'x']);
    assert.equal(neither.code, 2, neither.stderr);
    const both = await home.run(['saved-query', 'save', 'x', '--sql', 'SELECT 1', '-f', 'q.sql']);
    assert.equal(both.code, 2, both.stderr);
    const badName = await home.run(['saved-query', 'save', 'no/slash', '--sql', 'SELECT 1']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /1-128 letters, digits/);
    const missingFile = await home.run(['saved-query', 'save', 'x', '-f', path.join(home.root, 'missing.sql')]);
    assert.equal(missingFile.code, 1);
    assert.match(missingFile.stderr, /cannot read SQL file/);
  });

  test('history: new fields, filters, paging and who may see what', async () => {
    for (const sql of ['SELECT 1 AS history_probe', 'SELECT 2 AS history_probe', 'SELEC history_probe']) {
      await server.api('POST', '/api/query', { token: vic, json: { sql } });
    }
    const own = await server.api('GET', '/api/queries?search=HISTORY_PROBE', { token: vic });
    assert.equal(own.status, 200, own.text);
    assert.equal(own.body.queries.length, 3);
    const [newest] = own.body.queries;
    for (const field of ['statement_kind', 'database', 'workgroup', 'ended_at', 'partitions_scanned',
      'partitions_total', 'objects_scanned', 'cache_hit', 'duration_ms', 'rows', 'bytes_read', 'error']) {
      assert.ok(field in newest, `${field} in ${JSON.stringify(newest)}`);
    }
    assert.equal(newest.cache_hit, false);
    assert.ok(Date.parse(newest.ended_at) >= Date.parse(newest.started_at));

    const failed = await server.api('GET', '/api/queries?status=failed&search=history_probe', { token: vic });
    assert.deepEqual(failed.body.queries.map((q) => q.sql), ['SELEC history_probe']);
    const page = await server.api('GET', '/api/queries?search=history_probe&limit=1&offset=1', { token: vic });
    assert.deepEqual(page.body.queries.map((q) => q.sql), ['SELECT 2 AS history_probe']);
    assert.equal(page.body.limit, 1);
    assert.equal(page.body.offset, 1);
    const future = await server.api('GET', '/api/queries?since=2261-01-01', { token: vic });
    assert.deepEqual(future.body.queries, []);
    const past = await server.api('GET', '/api/queries?search=history_probe&until=2000-01-01T00:00:00Z', { token: vic });
    assert.deepEqual(past.body.queries, []);
    const since = new Date(Date.parse(newest.started_at) - 60000).toISOString();
    const recent = await server.api('GET', `/api/queries?search=history_probe&since=${since}`, { token: vic });
    assert.equal(recent.body.queries.length, 3);

    for (const bad of ['since=yesterday', 'until=2999-01-01', 'limit=ten', 'offset=-1']) {
      const response = await server.api('GET', `/api/queries?${bad}`, { token: vic });
      assert.equal(response.status, 400, `${bad}: ${response.text}`);
    }
    assert.equal((await server.api('GET', '/api/queries?user=eve', { token: vic })).status, 403);
    assert.equal((await server.api('GET', '/api/queries?all=true', { token: vic })).status, 403);
    const vicsForAdmin = await server.api('GET', '/api/queries?user=vic', { token: admin });
    assert.ok(vicsForAdmin.body.queries.length >= 3);
    assert.ok(vicsForAdmin.body.queries.every((q) => q.user === 'vic'));

    const cli = await home.json(['history', '--user', 'vic', '--status', 'failed', '--search', 'history_probe', '--limit', '5']);
    assert.equal(cli.length, 1);
    assert.equal(cli[0].sql, 'SELEC history_probe');
    assert.ok('cache_hit' in cli[0] && 'partitions_scanned' in cli[0] && 'ended_at' in cli[0]);
    const text = await home.ok(['history', '--search', 'history_probe']);
    assert.equal(text.stdout.trim().split('\n').length, 3);
    const badSince = await home.run(['history', '--since', 'yesterday']);
    assert.equal(badSince.code, 1);
    assert.match(badSince.stderr, /ISO 8601/);
  });
});
