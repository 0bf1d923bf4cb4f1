// End-to-end tests of the authentication hardening: API token lifetimes and logout
// ending every session the request carried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createHome, login, startServer } from './lib/basin.mjs';

/** Asserts an error answer: status, {"error":{"code","message"}}; returns the message. */
function assertError(response, status, code, what = '') {
  const label = `${what} -> ${response.status} ${response.text}`;
  assert.equal(response.status, status, label);
  assert.equal(response.body?.error?.code, code, label);
  assert.equal(typeof response.body.error.message, 'string', label);
  return response.body.error.message;
}

describe('API token lifetimes', () => {
  let home;
  let server;
  let session;

  before(async () => {
    home = await createHome();
    server = await startServer(home);
    session = await login(server, 'admin', home.admin.password);
  });

  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('expires_in_days beyond 3650, non-positive or not an integer answers 400 naming the field', async () => {
    // 10^6 days was accepted and listed as expiring in 1842 (the expiry overflowed).
    // 1e20 is beyond 64 bits; 2^64 - 1 would wrap to -1 as a signed number.
    for (const days of [1000000, 3651, 0, -1, 1.5, '7', null, 1e20, 18446744073709551615n]) {
      const body = typeof days === 'bigint' ? `{"name":"t","expires_in_days":${days}}` : undefined;
      const response = await server.api('POST', '/api/tokens', {
        token: session,
        ...(body ? { body, headers: { 'Content-Type': 'application/json' } } : { json: { name: 't', expires_in_days: days } }),
      });
      const message = assertError(response, 400, 'InvalidArgument', `expires_in_days ${days}`);
      assert.match(message, /expires_in_days/, `the message names the field: ${message}`);
      assert.match(message, /3650/, `the message gives the limit: ${message}`);
    }
    const listed = await server.api('GET', '/api/tokens', { token: session });
    assert.deepEqual(listed.body.tokens, [], 'no token was made by a refused request');
  });

  test('expires_in_days 3650 is accepted and listed ten years ahead', async () => {
    const created = await server.api('POST', '/api/tokens', { token: session, json: { name: 'decade', expires_in_days: 3650 } });
    assert.equal(created.status, 201, created.text);
    const expected = Date.now() + 3650 * 86400 * 1000;
    const expires = Date.parse(created.body.expires_at);
    assert.ok(Math.abs(expires - expected) < 120 * 1000, `expires_at ${created.body.expires_at}`);
    const listed = await server.api('GET', '/api/tokens', { token: session });
    const entry = listed.body.tokens.find((t) => t.id === created.body.id);
    assert.ok(Math.abs(Date.parse(entry.expires_at) - expected) < 120 * 1000, `listed ${entry.expires_at}`);
    assert.equal((await server.api('GET', '/api/me', { token: created.body.token })).status, 200);
  });
});

describe('logout', () => {
  let home;
  let server;

  before(async () => {
    home = await createHome();
    server = await startServer(home);
  });

  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  const cookieOf = (token) => ({ Cookie: `basin_session=${token}` });
  const me = (options) => server.api('GET', '/api/me', options);

  test('logout with the session cookie: the same cookie and the token as Bearer then get 401', async () => {
    const session = await login(server, 'admin', home.admin.password);
    assert.equal((await me({ headers: cookieOf(session) })).status, 200);
    const out = await server.api('POST', '/api/auth/logout', { headers: cookieOf(session) });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers.get('set-cookie') || '', /basin_session=;.*Max-Age=0/);
    assertError(await me({ headers: cookieOf(session) }), 401, 'Unauthenticated', 'cookie after logout');
    assertError(await me({ token: session }), 401, 'Unauthenticated', 'bearer after logout');
  });

  test('logout with the Bearer session: the same token and it as a cookie then get 401', async () => {
    const session = await login(server, 'admin', home.admin.password);
    const out = await server.api('POST', '/api/auth/logout', { token: session });
    assert.equal(out.status, 200, out.text);
    assertError(await me({ token: session }), 401, 'Unauthenticated', 'bearer after logout');
    assertError(await me({ headers: cookieOf(session) }), 401, 'Unauthenticated', 'cookie after logout');
  });

  test('logout ends the cookie\'s session too when another session came as Bearer', async () => {
    const bearer = await login(server, 'admin', home.admin.password);
    const cookie = await login(server, 'admin', home.admin.password);
    const out = await server.api('POST', '/api/auth/logout', { token: bearer, headers: cookieOf(cookie) });
    assert.equal(out.status, 200, out.text);
    // The answer clears the cookie in the browser; a copy of it must not work either.
    assert.match(out.headers.get('set-cookie') || '', /basin_session=;.*Max-Age=0/);
    assertError(await me({ token: bearer }), 401, 'Unauthenticated', 'bearer session after logout');
    assertError(await me({ headers: cookieOf(cookie) }), 401, 'Unauthenticated', 'cookie session after logout');
    assertError(await me({ token: cookie }), 401, 'Unauthenticated', 'cookie session as bearer after logout');
  });

  test('logout with an API token ends the cookie\'s session; the API token stays valid', async () => {
    const session = await login(server, 'admin', home.admin.password);
    const created = await server.api('POST', '/api/tokens', { token: session, json: { name: 'cli' } });
    assert.equal(created.status, 201, created.text);
    const out = await server.api('POST', '/api/auth/logout', { token: created.body.token, headers: cookieOf(session) });
    assert.equal(out.status, 200, out.text);
    assertError(await me({ headers: cookieOf(session) }), 401, 'Unauthenticated', 'cookie session after logout');
    // API tokens end by revocation (DELETE /api/tokens/{id}), not by logout.
    assert.equal((await me({ token: created.body.token })).status, 200);
    // Another session of the same user is unaffected.
    const other = await login(server, 'admin', home.admin.password);
    assert.equal((await me({ token: other })).status, 200);
  });
});
