// End-to-end tests of the authentication hardening: API token lifetimes.
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
