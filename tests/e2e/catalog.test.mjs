// End-to-end tests of hand-made catalog changes: databases, tables, columns and
// partitions through the CLI and the HTTP API, with schema history and roles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createHome, login, startServer } from './lib/basin.mjs';

describe('catalog by hand (CLI)', () => {
  let home;
  before(async () => { home = await createHome({ label: 'basin-catalog-cli-' }); });
  after(() => home?.cleanup());

  test('create, alter, partitions, describe, drop', async () => {
    await home.ok(['catalog', 'create-database', 'shop', '--description', 'web shop']);
    assert.deepEqual(await home.json(['catalog', 'databases']), ['shop']);
    await home.ok(['catalog', 'create-table', 'shop.visits', '--location', 'lake://visits',
      '--format', 'parquet', '--column', 'user_id:bigint', '--column', 'keyword:varchar',
      '--partition-key', 'dt:DATE']);
    const again = await home.run(['catalog', 'create-table', 'shop.visits', '--location', 'lake://visits',
      '--column', 'x:int']);
    assert.equal(again.code, 1, 'a second create of the same table fails');
    assert.match(again.stderr, /already exists/);

    await home.ok(['catalog', 'alter-table', 'shop.visits', '--add-column', 'score:DOUBLE', '--drop-column', 'keyword']);
    await home.ok(['catalog', 'add-partition', 'shop.visits', '--value', '2026-11-24']);
    await home.ok(['catalog', 'add-partition', 'shop.visits', '--value', '2026-11-25']);
    const partitions = await home.json(['catalog', 'partitions', 'shop.visits', '--filter', 'dt=2026-11-25']);
    assert.equal(partitions.length, 1);
    assert.equal(partitions[0].location, 'lake://visits/dt=2026-11-25/');

    const described = await home.json(['catalog', 'describe', 'shop.visits']);
    assert.equal(described.location, 'lake://visits/');
    assert.deepEqual(described.columns.map((c) => `${c.name}:${c.type}`), ['user_id:BIGINT', 'score:DOUBLE']);
    assert.deepEqual(described.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.equal(described.partition_count, 2);
    assert.equal(described.schema_version, 2);
    assert.equal(described.schema_history.length, 2);
    assert.match(described.schema_history[1].change, /\+ added score DOUBLE/);
    assert.match(described.schema_history[1].change, /- removed keyword VARCHAR/);

    await home.ok(['catalog', 'drop-partition', 'shop.visits', '--location', 'lake://visits/dt=2026-11-24/']);
    assert.equal((await home.json(['catalog', 'describe', 'shop.visits'])).partition_count, 1);

    const busy = await home.run(['catalog', 'drop-database', 'shop']);
    assert.equal(busy.code, 1, 'a database with tables is not dropped without --cascade');
    await home.ok(['catalog', 'drop-table', 'shop.visits']);
    await home.ok(['catalog', 'drop-database', 'shop']);
    assert.deepEqual(await home.json(['catalog', 'databases']), []);
  });

  test('bad names and column specs are usage errors with a clear message', async () => {
    const badName = await home.run(['catalog', 'create-database', 'Bad Name']);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /not valid/);
    const badTable = await home.run(['catalog', 'describe', 'no_dot']);
    assert.equal(badTable.code, 1);
    assert.match(badTable.stderr, /DATABASE\.TABLE/);
    const missing = await home.run(['catalog', 'describe', 'nope.nothing']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no such table/);
  });
});

describe('catalog by hand (HTTP API)', () => {
  let home;
  let server;
  let admin;
  let viewer;
  before(async () => {
    home = await createHome({ label: 'basin-catalog-api-' });
    await home.ok(['user', 'create', 'vera', '--role', 'viewer', '--password', 'viewer-password']);
    server = await startServer(home);
    admin = await login(server, home.admin.user, home.admin.password);
    viewer = await login(server, 'vera', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('editors create and alter tables and partitions; viewers read', async () => {
    assert.equal((await server.api('POST', '/api/catalog/databases', { token: admin, json: { name: 'web' } })).status, 201);
    const table = {
      name: 'clicks', location: 'lake://clicks', format: 'json',
      columns: [{ name: 'user_id', type: 'BIGINT' }, { name: 'tags', type: 'varchar[]' }],
      partition_keys: [{ name: 'dt', type: 'DATE' }],
    };
    assert.equal((await server.api('POST', '/api/catalog/databases/web/tables', { token: viewer, json: table })).status, 403);
    const created = await server.api('POST', '/api/catalog/databases/web/tables', { token: admin, json: table });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.location, 'lake://clicks/');
    assert.equal(created.body.columns[1].type, 'VARCHAR[]');
    assert.equal((await server.api('POST', '/api/catalog/databases/web/tables', { token: admin, json: table })).status, 409);
    const bad = await server.api('POST', '/api/catalog/databases/web/tables', { token: admin, json: { name: 'x' } });
    assert.equal(bad.status, 400);

    const altered = await server.api('PATCH', '/api/catalog/databases/web/tables/clicks',
      { token: admin, json: { add_columns: [{ name: 'score', type: 'DOUBLE' }], drop_columns: ['tags'] } });
    assert.equal(altered.status, 200, altered.text);
    assert.equal(altered.body.schema_version, 2);

    const added = await server.api('POST', '/api/catalog/databases/web/tables/clicks/partitions',
      { token: admin, json: { partitions: [{ values: ['2026-11-24'] }, { values: ['2026-11-25'] }] } });
    assert.equal(added.status, 200, added.text);
    const wrongArity = await server.api('POST', '/api/catalog/databases/web/tables/clicks/partitions',
      { token: admin, json: { partitions: [{ values: ['a', 'b'] }] } });
    assert.equal(wrongArity.status, 400);

    const described = await server.api('GET', '/api/catalog/databases/web/tables/clicks', { token: viewer });
    assert.equal(described.status, 200);
    assert.equal(described.body.partition_count, 2);
    assert.deepEqual(described.body.columns.map((c) => c.name), ['user_id', 'score']);
    assert.equal(described.body.schema_history.length, 2);

    const filtered = await server.api('GET', '/api/catalog/databases/web/tables/clicks/partitions?dt=2026-11-24', { token: viewer });
    assert.deepEqual(filtered.body.partitions.map((p) => p.location), ['lake://clicks/dt=2026-11-24/']);

    const drop = `/api/catalog/databases/web/tables/clicks/partitions?location=${encodeURIComponent('lake://clicks/dt=2026-11-24/')}`;
    assert.equal((await server.api('DELETE', drop, { token: viewer })).status, 403);
    assert.equal((await server.api('DELETE', drop, { token: admin })).status, 200);
    assert.equal((await server.api('DELETE', drop, { token: admin })).status, 404, 'a second drop finds nothing');
    const after = await server.api('GET', '/api/catalog/databases/web/tables/clicks', { token: viewer });
    assert.equal(after.body.partition_count, 1);
  });
});
