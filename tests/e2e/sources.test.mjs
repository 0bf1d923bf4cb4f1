// End-to-end tests of sources (the service databases snapshots copy) through the HTTP API
// and the CLI, against the real PostgreSQL and MariaDB servers of with-test-servers.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { createHome, login, startServer } from './lib/basin.mjs';

const postgres = (() => {
  const match = /^postgresql:\/\/([^:]+):([^@]+)@([^:]+):(\d+)\/(\w+)$/.exec(process.env.BASIN_TEST_POSTGRES_URL || '');
  return match && { user: match[1], password: match[2], host: match[3], port: Number(match[4]), database: match[5] };
})();
const mariadb = process.env.BASIN_TEST_MARIADB_PORT && {
  host: process.env.BASIN_TEST_MARIADB_HOST,
  port: Number(process.env.BASIN_TEST_MARIADB_PORT),
  user: process.env.BASIN_TEST_MARIADB_USER,
  password: process.env.BASIN_TEST_MARIADB_PASSWORD,
  database: process.env.BASIN_TEST_MARIADB_DATABASE,
};
const SERVERS = 'needs the PostgreSQL and MariaDB test servers: run under scripts/with-test-servers.sh';

// Every file of the home, read whole (the metadata database, the config, logs).
function homeBytes(dir) {
  let all = '';
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) all += homeBytes(file);
    else all += readFileSync(file).toString('latin1');
  }
  return all;
}

describe('sources', { skip: !(postgres && mariadb) && SERVERS }, () => {
  let home;
  let server;
  let admin;
  let vic; // viewer
  before(async () => {
    home = await createHome({ label: 'basin-sources-' });
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    server = await startServer(home, { env: { SHOP_MARIADB_PASSWORD: mariadb.password } });
    admin = await login(server, home.admin.user, home.admin.password);
    vic = await login(server, 'vic', 'viewer-password');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('API: a password goes in once, is kept sealed and never comes out', async () => {
    const shop = { name: 'shop', kind: 'postgres', host: postgres.host, port: postgres.port, database: postgres.database, user: postgres.user, password: postgres.password, tls: 'disable' };
    const refused = await server.api('POST', '/api/sources', { token: vic, json: shop });
    assert.equal(refused.status, 403, refused.text);
    const created = await server.api('POST', '/api/sources', { token: admin, json: shop });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.has_password, true);
    assert.equal(created.body.password, undefined);
    assert.match(created.body.created_at, /^\d{4}-\d\d-\d\dT/);
    const typo = await server.api('POST', '/api/sources', { token: admin, json: { ...shop, name: 'x', hots: 'h' } });
    assert.equal(typo.status, 400, typo.text);
    assert.match(typo.body.error.message, /'hots'/);

    const listed = await server.api('GET', '/api/sources', { token: admin });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.sources.map((s) => s.name), ['shop']);
    assert.equal((await server.api('GET', '/api/sources', { token: vic })).status, 403);
    const shown = await server.api('GET', '/api/sources/SHOP', { token: admin });
    assert.equal(shown.body.user, postgres.user);

    const tested = await server.api('POST', '/api/sources/shop/test', { token: admin });
    assert.equal(tested.status, 200, tested.text);
    assert.equal(tested.body.ok, true, tested.text);
    assert.match(tested.body.summary, /^PostgreSQL 15/);

    for (const text of [listed.text, shown.text, tested.text, server.stderr(), homeBytes(home.home)]) {
      assert.ok(!text.includes(postgres.password), 'the password shows');
    }
  });

  test('API: a wrong password, an unreachable host, a password from the environment', async () => {
    const base = { kind: 'postgres', host: postgres.host, port: postgres.port, database: postgres.database, user: postgres.user, tls: 'disable' };
    await server.api('POST', '/api/sources', { token: admin, json: { ...base, name: 'wrong', password: 'not-it' } });
    const wrong = await server.api('POST', '/api/sources/wrong/test', { token: admin });
    assert.equal(wrong.status, 200, wrong.text);
    assert.equal(wrong.body.ok, false);
    assert.equal(wrong.body.reason, 'unauthenticated');
    assert.match(wrong.body.error, /wrong user or password/);
    assert.ok(!wrong.body.error.includes('\n'));

    await server.api('POST', '/api/sources', { token: admin, json: { ...base, name: 'nowhere', port: 1, password: 'x', connect_timeout_seconds: 2 } });
    const nowhere = await server.api('POST', '/api/sources/nowhere/test', { token: admin });
    assert.equal(nowhere.body.reason, 'unreachable', nowhere.text);

    const maria = { name: 'orders', kind: 'mariadb', host: mariadb.host, port: mariadb.port, database: mariadb.database, user: mariadb.user, password_env: 'SHOP_MARIADB_PASSWORD' };
    const created = await server.api('POST', '/api/sources', { token: admin, json: maria });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.has_password, false);
    const tested = await server.api('POST', '/api/sources/orders/test', { token: admin });
    assert.equal(tested.body.ok, true, tested.text);
    assert.match(tested.body.summary, /^MariaDB 10\.11/);

    const deleted = await server.api('DELETE', '/api/sources/orders', { token: admin });
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal((await server.api('GET', '/api/sources/orders', { token: admin })).status, 404);
  });

  test('CLI: create with the password on stdin, test in one line, delete', async () => {
    await home.ok(['source', 'create', 'cli_pg', '--kind', 'postgres', '--host', postgres.host, '--port', String(postgres.port),
      '--database', postgres.database, '--user', postgres.user, '--tls', 'disable', '--password-stdin'], { input: `${postgres.password}\n` });
    const shown = await home.json(['source', 'show', 'cli_pg']);
    assert.equal(shown.has_password, true);
    const ok = await home.ok(['source', 'test', 'cli_pg']);
    assert.match(ok.stdout, /^ok: PostgreSQL 15\.\d+ as \w+ \(no TLS\): \d+ tables?/);
    assert.equal(ok.stdout.trim().split('\n').length, 1);

    await home.ok(['source', 'create', 'cli_bad', '--kind', 'mysql', '--host', mariadb.host, '--port', String(mariadb.port),
      '--database', mariadb.database, '--user', mariadb.user, '--password-stdin'], { input: 'wrong\n' });
    const bad = await home.run(['source', 'test', 'cli_bad']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /^basin: MariaDB source 'cli_bad' at .*wrong user or password/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);

    const missing = await home.run(['source', 'create', 'x', '--kind', 'postgres', '--user', 'u', '--database', 'd']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /needs a host/);
    await home.ok(['source', 'delete', 'cli_bad']);
    const list = await home.ok(['source', 'list']);
    assert.ok(!list.stdout.includes('cli_bad'));
    assert.ok(list.stdout.includes('cli_pg'));
    assert.ok(!homeBytes(home.home).includes(postgres.password));
  });
});
