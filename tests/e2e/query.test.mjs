// End-to-end tests of `basin query`: catalog tables after a crawl, output formats, SQL from
// stdin and files, and the sandbox that keeps queries inside the lake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { createHome, login, startServer } from './lib/basin.mjs';

describe('basin query', () => {
  let home;
  before(async () => {
    home = await createHome({ label: 'basin-query-' });
    const source = path.join(home.root, 'source');
    mkdirSync(path.join(source, 'orders', 'dt=2026-11-24'), { recursive: true });
    mkdirSync(path.join(source, 'orders', 'dt=2026-11-25'), { recursive: true });
    writeFileSync(path.join(source, 'orders', 'dt=2026-11-24', 'a.csv'), 'id,keyword,amount\n1,신발,3.5\n2,"bag, red",4\n');
    writeFileSync(path.join(source, 'orders', 'dt=2026-11-25', 'a.csv'), 'id,keyword,amount,coupon\n3,모자,1.25,X1\n');
    await home.ok(['cp', '-r', source, 'lake://raw/']);
    await home.ok(['crawler', 'create', 'raw', '--target', 'lake://raw/', '--database', 'shop']);
    await home.ok(['crawler', 'run', 'raw']);
  });
  after(() => home?.cleanup());

  test('catalog tables by name, columns merged across files, partition column typed', async () => {
    const rows = await home.json(['query', 'SELECT id, keyword, amount, coupon, dt FROM shop.orders ORDER BY id']);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], { id: '1', keyword: '신발', amount: '3.5', coupon: null, dt: '2026-11-24' });
    assert.equal(rows[1].keyword, 'bag, red');
    assert.equal(rows[2].coupon, 'X1');
    const filtered = await home.json(['query', '--database', 'shop',
      "SELECT count(*) AS n FROM orders WHERE dt = DATE '2026-11-25'"]);
    assert.deepEqual(filtered, [{ n: '1' }]);
  });

  test('formats: table, csv with a header row, json', async () => {
    const table = await home.ok(['query', 'SELECT 1 AS one, 2 AS two']);
    assert.match(table.stdout, /one \| two/);
    assert.match(table.stderr, /1 row\(s\) in \d+ ms/);
    const csv = await home.ok(['query', '--format', 'csv', "SELECT 'a,b' AS x, NULL AS y"]);
    assert.equal(csv.stdout, 'x,y\n"a,b",\n');
    const json = await home.ok(['query', '--format', 'json', 'SELECT 42 AS answer']);
    assert.deepEqual(JSON.parse(json.stdout), [{ answer: '42' }]);
  });

  test('SQL from stdin and from a file', async () => {
    const fromStdin = await home.ok(['query', '--format', 'csv'], { input: 'SELECT count(*) AS n FROM shop.orders' });
    assert.equal(fromStdin.stdout, 'n\n3\n');
    const file = path.join(home.root, 'q.sql');
    writeFileSync(file, 'SELECT max(id) AS m FROM shop.orders;\n');
    const fromFile = await home.ok(['query', '--format', 'csv', '-f', file]);
    assert.equal(fromFile.stdout, 'm\n3\n');
  });

  test('errors are one line with a hint and exit 1', async () => {
    for (const sql of ['SELEC 1', 'SELECT * FROM shop.nothing']) {
      const result = await home.run(['query', sql]);
      assert.equal(result.code, 1, sql);
      assert.match(result.stderr, /^basin: .*\(hint: .*\)\n$/s, sql);
    }
    const missing = await home.run(['query', 'SELECT * FROM shop.nothing']);
    assert.match(missing.stderr, /does not exist in the catalog/);
  });

  test('the sandbox: no local files, ATTACH, extensions or settings', async () => {
    const outside = path.join(home.root, 'secret.csv');
    writeFileSync(outside, 'password\nhunter2\n');
    for (const sql of [
      `SELECT * FROM read_csv('${outside}')`,
      "SELECT * FROM read_text('/etc/passwd')",
      `ATTACH '${outside}.db' AS other`,
      `COPY (SELECT 1) TO '${outside}.out'`,
      'INSTALL httpfs',
      'SET threads = 1',
    ]) {
      const result = await home.run(['query', sql]);
      assert.equal(result.code, 1, `${sql} must be refused: ${result.stdout}`);
      assert.doesNotMatch(result.stdout, /hunter2/);
    }
    assert.equal(existsSync(`${outside}.out`), false);
  });
});

describe('SQL over HTTP', () => {
  let home;
  let server;
  let admin;
  let viewer;
  before(async () => {
    home = await createHome({ label: 'basin-query-api-' });
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    await home.ok(['catalog', 'create-database', 'web']);
    server = await startServer(home);
    admin = await login(server, home.admin.user, home.admin.password);
    viewer = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('viewers read; writing needs an editor; every query is in the history', async () => {
    const read = await server.api('POST', '/api/query', { token: viewer, json: { sql: 'SELECT 41 + 1 AS answer, NULL AS nothing' } });
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.columns, [{ name: 'answer', type: 'INTEGER' }, { name: 'nothing', type: 'INTEGER' }]);
    assert.deepEqual(read.body.rows, [['42', null]]);
    assert.equal(read.body.truncated, false);

    const write = { sql: "COPY (SELECT 1 AS x) TO 'lake://exports/x.csv'" };
    const refused = await server.api('POST', '/api/query', { token: viewer, json: write });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error.code, 'PermissionDenied');
    const written = await server.api('POST', '/api/query', { token: admin, json: write });
    assert.equal(written.status, 200, written.text);
    const back = await server.api('POST', '/api/query', { token: viewer, json: { sql: "SELECT x FROM read_csv('lake://exports/x.csv')" } });
    assert.deepEqual(back.body.rows, [['1']]);

    const outside = await server.api('POST', '/api/query', { token: admin, json: { sql: "SELECT * FROM read_text('/etc/passwd')" } });
    assert.equal(outside.status, 403, outside.text);
    const broken = await server.api('POST', '/api/query', { token: viewer, json: { sql: 'SELEC 1' } });
    assert.equal(broken.status, 400);

    const capped = await server.api('POST', '/api/query', { token: viewer, json: { sql: 'SELECT * FROM range(50)', max_rows: 10 } });
    assert.equal(capped.body.rows.length, 10);
    assert.equal(capped.body.row_count, 50);
    assert.equal(capped.body.truncated, true);

    const own = await server.api('GET', '/api/queries', { token: viewer });
    assert.equal(own.status, 200);
    assert.ok(own.body.queries.every((q) => q.user === 'vic'), 'a viewer sees only their own queries');
    assert.ok(own.body.queries.some((q) => q.status === 'failed' && q.sql === 'SELEC 1'));
    assert.equal((await server.api('GET', '/api/queries?all=true', { token: viewer })).status, 403);
    const all = await server.api('GET', '/api/queries?all=true&search=exports', { token: admin });
    assert.ok(all.body.queries.length >= 2);
    assert.ok(all.body.queries.every((q) => q.sql.includes('exports')));
  });
});
