// End-to-end tests of workgroups: `basin workgroup ...` and `basin user set-workgroup` on
// a home, and the /api/workgroups endpoints with their role checks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createHome, login, startServer } from './lib/basin.mjs';

describe('basin workgroup (CLI)', () => {
  let home;
  before(async () => {
    home = await createHome({ label: 'basin-wg-cli-' });
  });
  after(() => home?.cleanup());

  test('primary exists, with no limits, 4 at once, 100 queued, 60 s', async () => {
    const list = await home.json(['workgroup', 'list']);
    assert.deepEqual(list.map((w) => w.name), ['primary']);
    const primary = list[0];
    assert.equal(primary.bytes_scanned_limit, 0);
    assert.equal(primary.run_time_limit_ms, 0);
    assert.equal(primary.memory_limit_bytes, 0);
    assert.equal(primary.max_concurrent, 4);
    assert.equal(primary.max_queued, 100);
    assert.equal(primary.queue_timeout_ms, 60000);
    assert.equal(primary.users, 1, 'the admin');
    const text = await home.ok(['workgroup', 'list']);
    assert.match(text.stdout, /^NAME\s+CONCURRENT/);
    assert.match(text.stdout, /\nprimary\s+4\s+100\s+1m\s+none\s+none\s+engine default\s+1\n/);
  });

  test('create with sizes and durations, show, update only what is given', async () => {
    const created = await home.json(['workgroup', 'create', 'analysts', '--description', 'ad-hoc analysis',
      '--bytes-scanned-limit', '10GiB', '--run-time-limit', '5m', '--memory-limit', '2GB',
      '--max-concurrent', '2', '--max-queued', '10', '--queue-timeout', '1500ms']);
    assert.equal(created.name, 'analysts');
    assert.equal(created.bytes_scanned_limit, 10 * 1024 ** 3);
    assert.equal(created.run_time_limit_ms, 300000);
    assert.equal(created.memory_limit_bytes, 2e9, 'GB is 1000-based, GiB 1024-based');
    assert.equal(created.max_concurrent, 2);
    assert.equal(created.max_queued, 10);
    assert.equal(created.queue_timeout_ms, 1500);

    const updated = await home.json(['workgroup', 'update', 'analysts', '--run-time-limit', 'none',
      '--max-queued', '0']);
    assert.equal(updated.run_time_limit_ms, 0);
    assert.equal(updated.max_queued, 0);
    assert.equal(updated.bytes_scanned_limit, 10 * 1024 ** 3, 'flags not given stay');
    assert.equal(updated.description, 'ad-hoc analysis');

    const shown = await home.ok(['workgroup', 'show', 'analysts']);
    assert.match(shown.stdout, /workgroup analysts: ad-hoc analysis/);
    assert.match(shown.stdout, /bytes scanned limit\s+10\.0 GiB per query/);
    assert.match(shown.stdout, /users\s+\(none\)/);
  });

  test('users join workgroups at creation or later; a workgroup with users is not deleted', async () => {
    await home.ok(['workgroup', 'create', 'etl']);
    await home.ok(['user', 'create', 'ana', '--password', 'correct-horse-1', '--workgroup', 'etl']);
    await home.ok(['user', 'create', 'ben', '--password', 'correct-horse-2']);
    const set = await home.ok(['user', 'set-workgroup', 'ben', 'etl']);
    assert.match(set.stdout, /user ben is now in workgroup etl/);
    const shown = await home.json(['workgroup', 'show', 'etl']);
    assert.deepEqual(shown.members, ['ana', 'ben']);
    const users = await home.json(['user', 'list']);
    assert.equal(users.find((u) => u.name === 'ana').workgroup, 'etl');
    assert.equal(users.find((u) => u.name === 'admin').workgroup, 'primary');

    const refused = await home.run(['workgroup', 'delete', 'etl']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^basin: workgroup 'etl' still has 2 users; .*\(hint: .*\)\n$/);
    await home.ok(['user', 'set-workgroup', 'ana', 'primary']);
    await home.ok(['user', 'set-workgroup', 'ben', 'primary']);
    await home.ok(['workgroup', 'delete', 'etl']);
    assert.equal((await home.run(['workgroup', 'show', 'etl'])).code, 1);

    const primary = await home.run(['workgroup', 'delete', 'primary']);
    assert.equal(primary.code, 1);
    assert.match(primary.stderr, /'primary' workgroup cannot be deleted/);
  });

  test('errors: bad values are usage errors (2), refused settings name the field (1)', async () => {
    const size = await home.run(['workgroup', 'create', 'x1', '--bytes-scanned-limit', '10 parsecs']);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /unknown size unit/);
    const duration = await home.run(['workgroup', 'create', 'x1', '--queue-timeout', '60']);
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /not a duration: '60'/);
    const zero = await home.run(['workgroup', 'create', 'x1', '--max-concurrent', '0']);
    assert.equal(zero.code, 1);
    assert.match(zero.stderr, /^basin: max_concurrent must be at least 1, got 0 \(hint: .*\)\n$/);
    const unknown = await home.run(['user', 'create', 'cy', '--workgroup', 'nowhere']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /workgroup not found: nowhere/);
    const users = await home.json(['user', 'list']);
    assert.equal(users.some((u) => u.name === 'cy'), false, 'no user is left behind');
    const taken = await home.run(['workgroup', 'create', 'ANALYSTS']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /taken/);
  });
});

describe('workgroups over HTTP', () => {
  let home;
  let server;
  let admin;
  let editor;
  let viewer;
  before(async () => {
    home = await createHome({ label: 'basin-wg-api-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-pass-1']);
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-pass-1']);
    server = await startServer(home);
    admin = await login(server, home.admin.user, home.admin.password);
    editor = await login(server, 'eve', 'editor-pass-1');
    viewer = await login(server, 'vic', 'viewer-pass-1');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('admins create, read, update and delete workgroups', async () => {
    const created = await server.api('POST', '/api/workgroups', {
      token: admin,
      json: { name: 'bi', description: 'dashboards', bytes_scanned_limit: 1048576, max_concurrent: 3 },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.workgroup.max_concurrent, 3);
    assert.equal(created.body.workgroup.max_queued, 100, 'unset settings take the defaults');

    const list = await server.api('GET', '/api/workgroups', { token: admin });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.workgroups.map((w) => w.name), ['bi', 'primary']);
    const primary = list.body.workgroups.find((w) => w.name === 'primary');
    assert.equal(primary.running, 0);
    assert.equal(primary.queued, 0);
    assert.equal(primary.users, 3);

    const updated = await server.api('PUT', '/api/workgroups/bi', { token: admin, json: { queue_timeout_ms: 5000 } });
    assert.equal(updated.status, 200, updated.text);
    assert.equal(updated.body.workgroup.queue_timeout_ms, 5000);
    assert.equal(updated.body.workgroup.max_concurrent, 3, 'settings not sent stay');

    const bad = await server.api('PUT', '/api/workgroups/bi', { token: admin, json: { max_concurrent: 0 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.message, 'max_concurrent must be at least 1, got 0');
    const typo = await server.api('PUT', '/api/workgroups/bi', { token: admin, json: { max_concurency: 2 } });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error.message, /unknown field 'max_concurency'/);
    const duplicate = await server.api('POST', '/api/workgroups', { token: admin, json: { name: 'bi' } });
    assert.equal(duplicate.status, 409);
    const missing = await server.api('GET', '/api/workgroups/nope', { token: admin });
    assert.equal(missing.status, 404);

    const assigned = await server.api('PUT', '/api/users/vic/workgroup', { token: admin, json: { workgroup: 'bi' } });
    assert.equal(assigned.status, 200, assigned.text);
    const one = await server.api('GET', '/api/workgroups/bi', { token: admin });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.workgroup.members, ['vic']);
    assert.equal(one.body.workgroup.running, 0);

    const refused = await server.api('DELETE', '/api/workgroups/bi', { token: admin });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /still has 1 user;/);
    const primaryDelete = await server.api('DELETE', '/api/workgroups/primary', { token: admin });
    assert.equal(primaryDelete.status, 409);

    await server.api('PUT', '/api/users/vic/workgroup', { token: admin, json: { workgroup: 'primary' } });
    const deleted = await server.api('DELETE', '/api/workgroups/bi', { token: admin });
    assert.equal(deleted.status, 200, deleted.text);
    const unknownUser = await server.api('PUT', '/api/users/nobody/workgroup', {
      token: admin, json: { workgroup: 'primary' },
    });
    assert.equal(unknownUser.status, 404);
  });

  test('editors and viewers see only their own workgroup and cannot change any', async () => {
    await home.ok(['workgroup', 'create', 'readers', '--max-concurrent', '1']);
    await home.ok(['user', 'set-workgroup', 'vic', 'readers']);
    const own = await server.api('GET', '/api/workgroups', { token: viewer });
    assert.equal(own.status, 200);
    assert.deepEqual(own.body.workgroups.map((w) => w.name), ['readers'], 'takes effect without a restart');
    assert.equal(own.body.workgroups[0].max_concurrent, 1);
    assert.equal(own.body.workgroups[0].running, undefined, 'counts are for admins');
    const me = await server.api('GET', '/api/me', { token: viewer });
    assert.equal(me.body.user.workgroup, 'readers');
    const editorOwn = await server.api('GET', '/api/workgroups', { token: editor });
    assert.deepEqual(editorOwn.body.workgroups.map((w) => w.name), ['primary']);

    for (const token of [editor, viewer]) {
      const attempts = [
        ['POST', '/api/workgroups', { name: 'mine' }],
        ['PUT', '/api/workgroups/readers', { max_concurrent: 50 }],
        ['DELETE', '/api/workgroups/readers', undefined],
        ['GET', '/api/workgroups/readers', undefined],
        ['PUT', '/api/users/eve/workgroup', { workgroup: 'readers' }],
        ['PUT', '/api/users/vic/workgroup', { workgroup: 'primary' }],
      ];
      for (const [method, route, json] of attempts) {
        const response = await server.api(method, route, { token, json });
        assert.equal(response.status, 403, `${method} ${route}: ${response.text}`);
      }
    }
    const unchanged = await home.json(['workgroup', 'show', 'readers']);
    assert.equal(unchanged.max_concurrent, 1);
    assert.deepEqual(unchanged.members, ['vic']);
    const anonymous = await server.api('GET', '/api/workgroups');
    assert.equal(anonymous.status, 401);
  });
});
