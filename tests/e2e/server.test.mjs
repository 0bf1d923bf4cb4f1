// End-to-end tests of `basin serve`: the HTTP API (auth, roles, users, tokens, lake
// objects), its error shape, request ids, request size limit, logs and graceful shutdown.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { createHome, editConfig, login, sleep, startServer, within } from './lib/basin.mjs';

const LIMIT = 1024;  // server.max_request_size of the main test server (1KiB)

/** Asserts an error answer: status, {"error":{"code","message"}} and an X-Request-Id. */
function assertError(response, status, code, what = '') {
  const label = `${what} -> ${response.status} ${response.text}`;
  assert.equal(response.status, status, label);
  assert.equal(typeof response.body, 'object', `error body is JSON: ${label}`);
  assert.deepEqual(Object.keys(response.body), ['error'], label);
  assert.equal(response.body.error.code, code, label);
  assert.equal(typeof response.body.error.message, 'string', label);
  assert.notEqual(response.body.error.message, '', label);
  assert.match(response.headers.get('content-type') || '', /application\/json/, label);
  assert.match(response.headers.get('x-request-id') || '', /^[A-Za-z0-9_-]{8,64}$/, `X-Request-Id on ${label}`);
}

/** A raw request with node:http, for bodies fetch would not send the way a test needs. */
function rawRequest(port, { method, path: target, headers = {}, chunks = [] }) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method, path: target, headers }, (response) => {
      const parts = [];
      response.on('data', (chunk) => parts.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        let body = text;
        try { body = JSON.parse(text); } catch { /* keep text */ }
        resolve({ status: response.statusCode, headers: new Headers(response.headers), text, body });
      });
    });
    request.on('error', reject);
    for (const chunk of chunks) request.write(chunk);
    request.end();
  });
}

describe('basin serve: HTTP API', () => {
  let home;
  let server;
  const secrets = [];  // every password and token used: none may appear in the logs
  let adminToken;
  const viewer = { name: 'vera', password: 'vera-password-123' };
  const editor = { name: 'eddie', password: 'eddie-password-456' };

  before(async () => {
    home = await createHome();
    editConfig(home, (text) => text.replace(/^ {2}max_request_size: .*$/m, '  max_request_size: 1KiB'));
    assert.match(readFileSync(path.join(home.home, 'basin.yaml'), 'utf8'), /max_request_size: 1KiB/);
    server = await startServer(home);
    secrets.push(home.admin.password, viewer.password, editor.password);
  });

  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('the listening socket queues 512 connections (not cpp-httplib\'s 5); a second server on its port fails', async () => {
    // Clients connecting at once beyond the queue lose their SYN and wait a second (the
    // ingest benchmark's 1.1 s outliers). `ss` shows a listening socket's backlog as Send-Q.
    const listed = execFileSync('ss', ['-ltnH', `sport = :${server.port}`], { encoding: 'utf8' });
    const columns = listed.trim().split(/\s+/);
    assert.equal(columns[0], 'LISTEN', listed);
    assert.equal(columns[2], '512', listed);
    const second = await home.run(['serve', '--listen', `127.0.0.1:${server.port}`], { timeout: 15000 });
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /address in use/);
  });

  test('GET /healthz answers 200 without credentials', async () => {
    const response = await server.api('GET', '/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
    assert.match(response.headers.get('x-request-id') || '', /^[A-Za-z0-9]{8,}$/);
  });

  test('every /api endpoint without credentials answers 401 Unauthenticated in the error shape', async () => {
    const endpoints = [
      ['GET', '/api/me'], ['POST', '/api/auth/logout'],
      ['GET', '/api/users'], ['POST', '/api/users', { name: 'x', password: 'xxxxxxxxxx', role: 'admin' }],
      ['PATCH', '/api/users/admin', { role: 'viewer' }], ['DELETE', '/api/users/admin'],
      ['GET', '/api/tokens'], ['POST', '/api/tokens', { name: 'x' }], ['DELETE', '/api/tokens/1'],
      ['GET', '/api/access-keys'], ['POST', '/api/access-keys'], ['DELETE', '/api/access-keys/BKABCDEFGHIJKLMNOPQR'],
      ['GET', '/api/lake/objects'], ['GET', '/api/lake/object?key=a'], ['PUT', '/api/lake/object?key=a', 'data'],
      ['DELETE', '/api/lake/object?key=a'],
    ];
    for (const [method, target, body] of endpoints) {
      const options = typeof body === 'string' ? { body } : body ? { json: body } : {};
      const response = await server.api(method, target, options);
      assertError(response, 401, 'Unauthenticated', `${method} ${target}`);
      assert.match(response.headers.get('www-authenticate') || '', /^Bearer/, `${method} ${target}`);
    }
    // Nothing happened: the admin still exists and is still admin, nothing was written.
    assert.deepEqual((await home.json(['user', 'list'])).map((u) => [u.name, u.role]), [['admin', 'admin']]);
    assert.deepEqual(await home.json(['ls', '-r']), []);
  });

  test('bad credentials answer 401: unknown bearer token, unsupported scheme, bogus cookie', async () => {
    for (const headers of [
      { Authorization: 'Bearer bss_not-a-real-token' },
      { Authorization: 'Bearer ' },
      { Authorization: `Basic ${Buffer.from(`admin:${home.admin.password}`).toString('base64')}` },
      { Cookie: 'basin_session=bss_nope' },
    ]) {
      const response = await server.api('GET', '/api/me', { headers });
      assertError(response, 401, 'Unauthenticated', JSON.stringify(headers));
    }
  });

  test('unknown paths answer 404 NotFound in the same error shape', async () => {
    for (const target of ['/nope', '/api/nope', '/api/lake/objectz', '/healthz/extra']) {
      assertError(await server.api('GET', target), 404, 'NotFound', target);
    }
  });

  test('POST /api/auth/login with the admin password gives a session token; a wrong password gives 401', async () => {
    const response = await server.api('POST', '/api/auth/login', { json: { username: 'admin', password: home.admin.password } });
    assert.equal(response.status, 200, response.text);
    assert.equal(typeof response.body.token, 'string');
    assert.ok(response.body.token.length >= 20);
    assert.equal(response.body.user.name, 'admin');
    assert.equal(response.body.user.role, 'admin');
    assert.ok(Date.parse(response.body.expires_at) > Date.now(), 'the session expires in the future');
    assert.match(response.headers.get('set-cookie') || '', /basin_session=[^;]+;.*HttpOnly/);
    adminToken = response.body.token;
    secrets.push(adminToken);

    for (const credentials of [
      { username: 'admin', password: 'wrong-password' },
      { username: 'admin', password: home.admin.password.toLowerCase() + 'x' },
      { username: 'nobody', password: home.admin.password },
    ]) {
      const denied = await server.api('POST', '/api/auth/login', { json: credentials });
      assertError(denied, 401, 'Unauthenticated', JSON.stringify(credentials));
      assert.equal(denied.headers.get('set-cookie'), null, 'no session for a wrong password');
    }
    const missing = await server.api('POST', '/api/auth/login', { json: { username: 'admin' } });
    assertError(missing, 400, 'InvalidArgument', 'login without password');
  });

  test('GET /api/me with the Bearer session token, and with the session cookie', async () => {
    const me = await server.api('GET', '/api/me', { token: adminToken });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user.name, 'admin');
    assert.equal(me.body.user.role, 'admin');
    assert.equal(me.body.credential, 'session');
    const byCookie = await server.api('GET', '/api/me', { headers: { Cookie: `other=1; basin_session=${adminToken}` } });
    assert.equal(byCookie.status, 200, byCookie.text);
    assert.equal(byCookie.body.user.name, 'admin');
  });

  test('the admin creates a viewer and an editor (POST /api/users) and lists them', async () => {
    for (const [user, role] of [[viewer, 'viewer'], [editor, 'editor']]) {
      const created = await server.api('POST', '/api/users', { token: adminToken, json: { name: user.name, password: user.password, role } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.user.name, user.name);
      assert.equal(created.body.user.role, role);
      assert.ok(!created.text.includes(user.password), 'the answer does not echo the password');
    }
    const duplicate = await server.api('POST', '/api/users', { token: adminToken, json: { name: viewer.name, password: 'another-password', role: 'viewer' } });
    assertError(duplicate, 409, 'AlreadyExists', 'duplicate user');
    const badRole = await server.api('POST', '/api/users', { token: adminToken, json: { name: 'zed', password: 'zed-password-1', role: 'emperor' } });
    assertError(badRole, 400, 'InvalidArgument', 'unknown role');

    const listed = await server.api('GET', '/api/users', { token: adminToken });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.users.map((u) => [u.name, u.role]).sort(),
      [['admin', 'admin'], [editor.name, 'editor'], [viewer.name, 'viewer']]);
    assert.ok(!listed.text.includes('password'), 'no password (or hash) in the user list');

    viewer.token = await login(server, viewer.name, viewer.password);
    editor.token = await login(server, editor.name, editor.password);
    secrets.push(viewer.token, editor.token);
  });

  test('a viewer may list and read lake objects but not write them (403 PermissionDenied)', async () => {
    const listed = await server.api('GET', '/api/lake/objects', { token: viewer.token });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.body.objects, []);

    const put = await server.api('PUT', '/api/lake/object?key=x', { token: viewer.token, body: 'viewer data' });
    assertError(put, 403, 'PermissionDenied', 'viewer PUT');
    assert.match(put.body.error.message, /editor/);
    assert.equal(existsSync(path.join(home.lake, 'x')), false, 'nothing written for a viewer');

    await home.ok(['cp', '-r', path.join(home.home, 'basin.yaml'), 'lake://seed/basin.yaml']);
    const del = await server.api('DELETE', '/api/lake/object?key=seed/basin.yaml', { token: viewer.token });
    assertError(del, 403, 'PermissionDenied', 'viewer DELETE');
    assert.ok(existsSync(path.join(home.lake, 'seed/basin.yaml')), 'nothing deleted for a viewer');

    const read = await server.fetch('/api/lake/object?key=seed/basin.yaml', { token: viewer.token });
    assert.equal(read.status, 200);
    assert.equal(await read.text(), readFileSync(path.join(home.home, 'basin.yaml'), 'utf8'));
  });

  test('a viewer may not use admin endpoints (GET/POST /api/users -> 403)', async () => {
    assertError(await server.api('GET', '/api/users', { token: viewer.token }), 403, 'PermissionDenied', 'viewer GET /api/users');
    assertError(await server.api('GET', '/api/users', { token: editor.token }), 403, 'PermissionDenied', 'editor GET /api/users');
    const escalate = await server.api('PATCH', `/api/users/${viewer.name}`, { token: viewer.token, json: { role: 'admin' } });
    assertError(escalate, 403, 'PermissionDenied', 'viewer PATCH own role');
    const create = await server.api('POST', '/api/users', { token: viewer.token, json: { name: 'mallory', password: 'mallory-pass-1', role: 'admin' } });
    assertError(create, 403, 'PermissionDenied', 'viewer POST /api/users');
    const others = await server.api('POST', '/api/access-keys?user=admin', { token: viewer.token });
    assertError(others, 403, 'PermissionDenied', "viewer creating the admin's access key");
    const me = await server.api('GET', '/api/me', { token: viewer.token });
    assert.equal(me.body.user.role, 'viewer');
    assert.ok(!(await home.json(['user', 'list'])).some((u) => u.name === 'mallory'));
  });

  test('an editor PUTs an object, GETs the same bytes back, lists it and DELETEs it', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(500)]);
    const key = 'e2e/dir/데이터 file.bin';
    const target = `/api/lake/object?key=${encodeURIComponent(key)}`;
    const put = await server.api('PUT', target, { token: editor.token, body: bytes });
    assert.equal(put.status, 201, put.text);
    assert.deepEqual(put.body, { key, size: bytes.length });
    assert.ok(readFileSync(path.join(home.lake, key)).equals(bytes), 'stored in the lake folder');

    const got = await server.fetch(target, { token: viewer.token });
    assert.equal(got.status, 200);
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(bytes), 'GET returns the PUT bytes');

    const listed = await server.api('GET', `/api/lake/objects?prefix=${encodeURIComponent('e2e/')}`, { token: editor.token });
    assert.deepEqual(listed.body.objects.map((o) => [o.key, o.size]), [[key, bytes.length]]);
    const level = await server.api('GET', '/api/lake/objects?prefix=e2e/&recursive=false', { token: editor.token });
    assert.deepEqual(level.body.objects, []);
    assert.deepEqual(level.body.prefixes, ['e2e/dir/']);

    const del = await server.api('DELETE', target, { token: editor.token });
    assert.equal(del.status, 200, del.text);
    assert.equal(existsSync(path.join(home.lake, key)), false);
    assertError(await server.api('GET', target, { token: editor.token }), 404, 'NotFound', 'GET after DELETE');
    assertError(await server.api('DELETE', target, { token: editor.token }), 404, 'NotFound', 'DELETE again');
  });

  test('API tokens: the secret is shown once, listed without it, works as Bearer, and stops working when revoked', async () => {
    const created = await server.api('POST', '/api/tokens', { token: viewer.token, json: { name: 'ci', expires_in_days: 7 } });
    assert.equal(created.status, 201, created.text);
    const { id, token } = created.body;
    assert.ok(Number.isInteger(id));
    assert.equal(typeof token, 'string');
    secrets.push(token);

    const listed = await server.api('GET', '/api/tokens', { token: viewer.token });
    assert.equal(listed.status, 200);
    const entry = listed.body.tokens.find((t) => t.id === id);
    assert.ok(entry, `GET /api/tokens lacks ${id}`);
    assert.equal(entry.name, 'ci');
    assert.equal(entry.revoked_at, null);
    assert.ok(!listed.text.includes(token), 'the token list never contains the secret');
    // Another user's list does not show it.
    const adminList = await server.api('GET', '/api/tokens', { token: adminToken });
    assert.ok(!adminList.body.tokens.some((t) => t.id === id));

    const me = await server.api('GET', '/api/me', { token });
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user.name, viewer.name);
    assert.equal(me.body.credential, 'api_token');

    // Someone else's token cannot be revoked by a non-admin.
    const adminTok = await server.api('POST', '/api/tokens', { token: adminToken, json: { name: 'admin-ci' } });
    secrets.push(adminTok.body.token);
    const steal = await server.api('DELETE', `/api/tokens/${adminTok.body.id}`, { token: viewer.token });
    assert.ok(steal.status === 403 || steal.status === 404, `viewer revoking the admin's token: ${steal.status}`);
    assert.equal((await server.api('GET', '/api/me', { token: adminTok.body.token })).status, 200, "the admin's token still works");

    const revoked = await server.api('DELETE', `/api/tokens/${id}`, { token: viewer.token });
    assert.equal(revoked.status, 200, revoked.text);
    assertError(await server.api('GET', '/api/me', { token }), 401, 'Unauthenticated', 'revoked token');
    const after = await server.api('GET', '/api/tokens', { token: viewer.token });
    assert.notEqual(after.body.tokens.find((t) => t.id === id).revoked_at, null);
  });

  test('DELETE /api/tokens/{id} with an id that names no token answers 404 (or 400), never 500', async () => {
    for (const bad of ['999999', '9223372036854775807', '99999999999999999999']) {
      const response = await server.api('DELETE', `/api/tokens/${bad}`, { token: viewer.token });
      assert.ok(response.status === 404 || response.status === 400, `DELETE /api/tokens/${bad}: ${response.status} ${response.text}`);
      assertError(response, response.status, response.status === 404 ? 'NotFound' : 'InvalidArgument', `DELETE /api/tokens/${bad}`);
    }
  });

  test("access keys over HTTP: own keys only for a non-admin; another user's key cannot be revoked", async () => {
    const adminKey = await home.json(['access-key', 'create']);
    secrets.push(adminKey.secret_access_key);
    const created = await server.api('POST', '/api/access-keys', { token: viewer.token });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.user, viewer.name);
    assert.match(created.body.access_key_id, /^BK[A-Z0-9]{18}$/);
    assert.equal(created.body.secret_access_key.length, 40);
    secrets.push(created.body.secret_access_key);

    const listed = await server.api('GET', '/api/access-keys', { token: viewer.token });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.access_keys.map((k) => k.access_key_id), [created.body.access_key_id]);
    assert.ok(!listed.text.includes(created.body.secret_access_key), 'the list never shows the secret');
    assertError(await server.api('GET', '/api/access-keys?user=admin', { token: viewer.token }), 403, 'PermissionDenied',
      "viewer listing the admin's keys");

    const steal = await server.api('DELETE', `/api/access-keys/${adminKey.access_key_id}`, { token: viewer.token });
    assert.ok(steal.status === 403 || steal.status === 404, `viewer revoking the admin's key: ${steal.status} ${steal.text}`);
    const adminKeys = await home.json(['access-key', 'list']);
    assert.equal(adminKeys.find((k) => k.access_key_id === adminKey.access_key_id).status, 'active');

    const own = await server.api('DELETE', `/api/access-keys/${created.body.access_key_id}`, { token: viewer.token });
    assert.equal(own.status, 200, own.text);
    const after = await server.api('GET', '/api/access-keys', { token: viewer.token });
    assert.equal(after.body.access_keys[0].status, 'revoked');
  });

  test('logout invalidates the session', async () => {
    const session = await login(server, editor.name, editor.password);
    secrets.push(session);
    assert.equal((await server.api('GET', '/api/me', { token: session })).status, 200);
    const out = await server.api('POST', '/api/auth/logout', { token: session });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get('set-cookie') || '', /basin_session=;.*Max-Age=0/);
    assertError(await server.api('GET', '/api/me', { token: session }), 401, 'Unauthenticated', 'after logout');
    assertError(await server.api('GET', '/api/me', { headers: { Cookie: `basin_session=${session}` } }), 401,
      'Unauthenticated', 'cookie after logout');
    // Other sessions of the same user are unaffected.
    assert.equal((await server.api('GET', '/api/me', { token: editor.token })).status, 200);
  });

  test('logout with the session cookie (as a browser does) invalidates the session too', async () => {
    const session = await login(server, editor.name, editor.password);
    secrets.push(session);
    const cookie = { Cookie: `basin_session=${session}` };
    assert.equal((await server.api('GET', '/api/me', { headers: cookie })).status, 200);
    const out = await server.api('POST', '/api/auth/logout', { headers: cookie });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get('set-cookie') || '', /basin_session=;.*Max-Age=0/);
    // The cookie is cleared in the browser, but a copy of it (or the token) must not work either.
    assertError(await server.api('GET', '/api/me', { headers: cookie }), 401, 'Unauthenticated', 'cookie after cookie logout');
    assertError(await server.api('GET', '/api/me', { token: session }), 401, 'Unauthenticated', 'token after cookie logout');
  });

  test('deleting a user ends their sessions; changing a role takes effect at once', async () => {
    const temp = { name: 'temp-user', password: 'temp-password-789' };
    secrets.push(temp.password);
    assert.equal((await server.api('POST', '/api/users', { token: adminToken, json: { ...temp, role: 'viewer' } })).status, 201);
    const session = await login(server, temp.name, temp.password);
    secrets.push(session);
    assertError(await server.api('PUT', '/api/lake/object?key=t', { token: session, body: 'x' }), 403, 'PermissionDenied', 'viewer PUT');
    const patched = await server.api('PATCH', `/api/users/${temp.name}`, { token: adminToken, json: { role: 'editor' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.user.role, 'editor');
    assert.equal((await server.api('PUT', '/api/lake/object?key=t', { token: session, body: 'x' })).status, 201);
    assert.equal((await server.api('DELETE', '/api/lake/object?key=t', { token: session })).status, 200);

    const deleted = await server.api('DELETE', `/api/users/${temp.name}`, { token: adminToken });
    assert.equal(deleted.status, 200, deleted.text);
    assertError(await server.api('GET', '/api/me', { token: session }), 401, 'Unauthenticated', 'session of a deleted user');
  });

  test(`a body above server.max_request_size (${LIMIT} bytes) answers 413 in the error shape; at the limit it is accepted`, async () => {
    const atLimit = await server.api('PUT', '/api/lake/object?key=limit/at.bin', { token: editor.token, body: randomBytes(LIMIT) });
    assert.equal(atLimit.status, 201, atLimit.text);

    const over = await server.api('PUT', '/api/lake/object?key=limit/over.bin', { token: editor.token, body: randomBytes(LIMIT + 1) });
    assertError(over, 413, 'PayloadTooLarge', 'body of LIMIT + 1 bytes');
    assert.match(over.body.error.message, /max_request_size/);

    const large = await server.api('PUT', '/api/lake/object?key=limit/large.bin', { token: editor.token, body: randomBytes(8 * LIMIT) });
    assertError(large, 413, 'PayloadTooLarge', 'body of 8 * LIMIT bytes');

    // Chunked, without Content-Length.
    const json = await server.api('POST', '/api/tokens', { token: editor.token, json: { name: 'x'.repeat(2 * LIMIT) } });
    assertError(json, 413, 'PayloadTooLarge', 'JSON body over the limit');

    assert.deepEqual((await home.json(['ls', '-r', 'lake://limit/'])).map((o) => o.key), ['limit/at.bin'],
      'nothing over the limit was written');
  });

  test('the size limit holds for a chunked body without Content-Length too (413, or 411), and nothing is stored', async () => {
    const chunked = await rawRequest(server.port, {
      method: 'PUT',
      path: '/api/lake/object?key=limit/chunked.bin',
      headers: { Authorization: `Bearer ${editor.token}`, 'Transfer-Encoding': 'chunked' },
      chunks: [randomBytes(1000), randomBytes(1000), randomBytes(1000)],
    });
    if (chunked.status === 411) assertError(chunked, 411, chunked.body?.error?.code, 'chunked body over the limit');
    else assertError(chunked, 413, 'PayloadTooLarge', 'chunked body over the limit');
    const listed = (await home.json(['ls', '-r', 'lake://limit/'])).map((o) => o.key);
    assert.ok(!listed.includes('limit/chunked.bin'), 'the chunked body over the limit was not stored');
  });

  test('a PUT whose key collides with an existing folder is a client error (4xx), not a server error', async () => {
    assert.equal((await server.api('PUT', '/api/lake/object?key=folder/inside.txt', { token: editor.token, body: 'x' })).status, 201);
    for (const key of ['folder', 'folder/inside.txt/below']) {
      const response = await server.api('PUT', `/api/lake/object?key=${encodeURIComponent(key)}`, { token: editor.token, body: 'y' });
      assert.ok(response.status >= 400 && response.status < 500,
        `PUT ${key} over a folder/file conflict: ${response.status} ${response.text}`);
      assertError(response, response.status, response.body.error.code, `PUT ${key}`);
      assert.ok(!response.text.includes(home.lake), `the error does not reveal the server path: ${response.text}`);
    }
    assert.equal(readFileSync(path.join(home.lake, 'folder/inside.txt'), 'utf8'), 'x');
    assert.equal((await server.api('DELETE', '/api/lake/object?key=folder/inside.txt', { token: editor.token })).status, 200);
  });

  test('a malformed JSON body answers 400 InvalidArgument', async () => {
    for (const body of ['{bad', '', '[1,2]', '"text"', '{"name": }']) {
      const response = await server.api('POST', '/api/tokens', { token: adminToken, body, headers: { 'Content-Type': 'application/json' } });
      assertError(response, 400, 'InvalidArgument', `POST /api/tokens ${JSON.stringify(body)}`);
    }
    assertError(await server.api('POST', '/api/users', { token: adminToken, body: '{"name":"a",' }), 400, 'InvalidArgument', 'POST /api/users');
    assertError(await server.api('POST', '/api/auth/login', { body: 'username=admin' }), 400, 'InvalidArgument', 'login form body');
    assertError(await server.api('POST', '/api/tokens', { token: adminToken, json: { name: 5 } }), 400, 'InvalidArgument', 'name not a string');
    assertError(await server.api('POST', '/api/tokens', { token: adminToken, json: { name: 'x', expires_in_days: -1 } }), 400,
      'InvalidArgument', 'negative expiry');
  });

  test('lake keys that escape the lake root answer 400 and touch nothing outside the lake', async () => {
    const config = readFileSync(path.join(home.home, 'basin.yaml'));
    const attempts = [
      ['PUT', '/api/lake/object?key=../x', 'escape'],
      ['PUT', '/api/lake/object?key=a/../../x', 'escape'],
      ['PUT', `/api/lake/object?key=${encodeURIComponent('../basin.yaml')}`, 'overwritten'],
      ['PUT', '/api/lake/object?key=%2E%2E%2Fy', 'escape'],
      ['GET', '/api/lake/object?key=../basin.yaml'],
      ['GET', '/api/lake/object?key=../metadata.db'],
      ['DELETE', '/api/lake/object?key=../basin.yaml'],
      ['GET', '/api/lake/objects?prefix=../'],
      ['GET', '/api/lake/objects?prefix=..'],
    ];
    for (const [method, target, body] of attempts) {
      const response = await server.api(method, target, { token: editor.token, body });
      assertError(response, 400, 'InvalidArgument', `${method} ${target}`);
    }
    assert.equal(existsSync(path.join(home.home, 'x')), false);
    assert.equal(existsSync(path.join(home.home, 'y')), false);
    assert.equal(existsSync(path.join(home.root, 'x')), false);
    assert.ok(readFileSync(path.join(home.home, 'basin.yaml')).equals(config), 'basin.yaml untouched');
  });

  test('a client-supplied X-Request-Id is echoed (also on errors); an unsafe one is replaced', async () => {
    const ok = await server.api('GET', '/healthz', { headers: { 'X-Request-Id': 'client-id_123' } });
    assert.equal(ok.headers.get('x-request-id'), 'client-id_123');
    const denied = await server.api('GET', '/api/users', { headers: { 'X-Request-Id': 'trace-abc-401' } });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('x-request-id'), 'trace-abc-401');
    const missing = await server.api('GET', '/no/such/path', { headers: { 'X-Request-Id': 'trace-abc-404' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('x-request-id'), 'trace-abc-404');

    for (const unsafe of ['has space', 'a'.repeat(65), 'new"quote', 'x;y']) {
      const response = await server.api('GET', '/healthz', { headers: { 'X-Request-Id': unsafe } });
      const id = response.headers.get('x-request-id');
      assert.notEqual(id, unsafe);
      assert.match(id, /^[A-Za-z0-9_-]{8,64}$/);
    }
    // Generated ids differ per request.
    const a = (await server.api('GET', '/healthz')).headers.get('x-request-id');
    const b = (await server.api('GET', '/healthz')).headers.get('x-request-id');
    assert.notEqual(a, b);
  });

  test('logs on stderr are JSON lines with request ids and never contain a password or token', async () => {
    const marker = `log-marker-${Date.now()}`;
    await server.api('GET', '/api/me', { token: adminToken, headers: { 'X-Request-Id': marker } });
    await sleep(100);
    const lines = server.logLines();
    const requests = lines.filter((line) => line.event === 'http_request');
    assert.ok(requests.length >= 50, `http_request lines: ${requests.length}`);
    for (const line of requests) {
      assert.equal(typeof line.request_id, 'string', JSON.stringify(line));
      assert.notEqual(line.request_id, '', JSON.stringify(line));
      assert.equal(typeof line.ts, 'string');
      assert.equal(typeof line.status, 'number');
    }
    const marked = requests.find((line) => line.request_id === marker);
    assert.ok(marked, 'the request with a client request id is logged with it');
    assert.equal(marked.path, '/api/me');
    assert.equal(marked.status, 200);
    assert.ok(requests.some((line) => line.status === 413), 'rejected requests are logged too');

    const stderr = server.stderr();
    assert.ok(secrets.length >= 8, `secrets collected: ${secrets.length}`);
    for (const secret of secrets) {
      assert.ok(!stderr.includes(secret), `a secret (${secret.slice(0, 4)}...) appears in the server log`);
    }
    assert.ok(!/authorization|cookie/i.test(stderr), 'no credential headers in the log');
  });
});

describe('basin serve: graceful shutdown', () => {
  let home;
  let server;
  before(async () => {
    home = await createHome();
  });
  after(async () => {
    await server?.stop('SIGKILL');
    home?.cleanup();
  });

  test('SIGTERM lets a request in flight finish with success, then the process exits 0', async () => {
    server = await startServer(home);
    const { token } = await home.json(['token', 'create', '--name', 'shutdown']);
    const first = randomBytes(64 * 1024);
    const second = randomBytes(64 * 1024);

    // A PUT whose body arrives slowly: half now, half after SIGTERM.
    let request;
    const answered = new Promise((resolve, reject) => {
      request = http.request({
        host: '127.0.0.1',
        port: server.port,
        method: 'PUT',
        path: '/api/lake/object?key=slow/upload.bin',
        headers: { Authorization: `Bearer ${token}`, 'Content-Length': first.length + second.length },
      }, (response) => {
        const parts = [];
        response.on('data', (chunk) => parts.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(parts).toString() }));
      });
      request.on('error', reject);
    });
    request.write(first);
    await sleep(300);
    server.proc.kill('SIGTERM');
    await sleep(500);
    assert.equal(server.proc.exitCode, null, 'the server waits for the request in flight');
    assert.equal(server.proc.signalCode, null, 'the server was not killed by SIGTERM');
    request.end(second);

    const response = await answered;
    assert.equal(response.status, 201, response.text);
    assert.deepEqual(JSON.parse(response.text), { key: 'slow/upload.bin', size: first.length + second.length });
    const exit = await within(server.exited, 10000, { code: 'timeout' });
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM; stderr:\n${server.stderr()}`);
    assert.ok(readFileSync(path.join(home.lake, 'slow/upload.bin')).equals(Buffer.concat([first, second])),
      'the upload in flight was stored completely');

    const events = server.logLines().map((line) => line.event);
    assert.ok(events.includes('server_stopping'), events.join(','));
    assert.equal(events.at(-1), 'server_stopped', events.join(','));
    // Nothing listens any more.
    await assert.rejects(fetch(`${server.url}/healthz`));
  });

  test('SIGTERM lets a large download in flight finish', async () => {
    const big = randomBytes(24 << 20);
    const file = path.join(home.root, 'big.bin');
    writeFileSync(file, big);
    await home.ok(['cp', file, 'lake://big/big.bin']);
    server = await startServer(home);
    const { token } = await home.json(['token', 'create', '--name', 'download']);

    const response = await fetch(`${server.url}/api/lake/object?key=big/big.bin`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const reader = response.body.getReader();
    const parts = [];
    let received = 0;
    // Read a little, stop the server, then read the rest slowly enough to span the stop.
    while (received < (1 << 20)) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
      received += value.length;
    }
    server.proc.kill('SIGTERM');
    await sleep(300);
    let failure = null;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parts.push(value);
      }
    } catch (error) {
      failure = error;
    }
    const got = Buffer.concat(parts);
    assert.equal(failure, null,
      `the download was cut off after ${got.length} of ${big.length} bytes (${failure?.message}); server exit: ` +
      `${JSON.stringify(await within(server.exited, 5000, 'still running'))}`);
    assert.equal(got.length, big.length, 'the whole object arrived');
    assert.ok(got.equals(big), 'the download is byte-identical');
    const exit = await within(server.exited, 10000, { code: 'timeout' });
    assert.deepEqual(exit, { code: 0, signal: null }, `exit after SIGTERM; stderr:\n${server.stderr()}`);
  });
});
