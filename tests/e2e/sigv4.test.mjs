// basin's SigV4 verifier judged by the official AWS signer: requests signed with
// @smithy/signature-v4 (the signer inside every AWS SDK for JavaScript v3 client) must
// verify, and any change after signing, a wrong or revoked key, or a stale signing time
// must be refused with 401.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

import { createHome, startServer } from './lib/basin.mjs';

// How the SDKs encode query parameters and path segments on the wire.
const escapeUri = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

describe('SigV4-signed requests (AWS SDK signer) against basin serve', () => {
  let home;
  let server;
  let key;         // the admin's access key {access_key_id, secret_access_key}
  let viewerKey;   // a viewer's access key

  before(async () => {
    home = await createHome();
    key = await home.json(['access-key', 'create']);
    await home.json(['user', 'create', 'val', '--role', 'viewer']);
    viewerKey = await home.json(['access-key', 'create', '--user', 'val']);
    const file = path.join(home.root, 'obj.txt');
    writeFileSync(file, 'data');
    for (const target of ['a/b/one.txt', 'a/b/two.txt', 'a/b/deeper/three.txt', 'a/c.txt', 'sp ace/ü (1).txt']) {
      await home.ok(['cp', file, `lake://${target}`]);
    }
    server = await startServer(home);
  });

  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  /**
   * Signs a request with the SDK signer. Returns {url, init} for fetch; `mutate` may change
   * the signed request (headers, body, path, query, method) before it is sent.
   */
  async function sign({
    method = 'GET', pathname, query = {}, headers = {}, body, credentials, service = 's3', region = 'us-east-1',
    signingDate = new Date(), applyChecksum = true,
  }) {
    const creds = credentials || { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key };
    const signer = new SignatureV4({
      credentials: creds, region, service, sha256: Sha256, applyChecksum, uriEscapePath: service !== 's3',
    });
    const request = new HttpRequest({
      method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: pathname,
      query,
      headers: { host: `127.0.0.1:${server.port}`, ...headers },
      body,
    });
    return signer.sign(request, { signingDate });
  }

  function wire(signed, { pathname, query, rawQuery } = {}) {
    const target = pathname ?? signed.path;
    const q = rawQuery ?? Object.entries(query ?? signed.query ?? {})
      .map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`).join('&');
    const headers = { ...signed.headers };
    delete headers.host;  // fetch sends the same Host itself
    return { url: `${server.url}${target}${q ? `?${q}` : ''}`, init: { method: signed.method, headers, body: signed.body } };
  }

  async function send(signed, options) {
    const { url, init } = wire(signed, options);
    const response = await fetch(url, init);
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch { /* keep text */ }
    return { status: response.status, body, text, headers: response.headers };
  }

  function assertRejected(response, what) {
    assert.equal(response.status, 401, `${what}: ${response.status} ${response.text}`);
    assert.equal(response.body?.error?.code, 'Unauthenticated', `${what}: ${response.text}`);
    assert.match(response.headers.get('x-request-id') || '', /.+/);
  }

  test('a signed GET /api/me verifies (service s3 and service basin) and names the access key credential', async () => {
    for (const service of ['s3', 'basin']) {
      const signed = await sign({ pathname: '/api/me', service });
      assert.match(signed.headers.authorization, new RegExp(`^AWS4-HMAC-SHA256 Credential=${key.access_key_id}/\\d{8}/us-east-1/${service}/aws4_request`));
      const response = await send(signed);
      assert.equal(response.status, 200, `service ${service}: ${response.text}`);
      assert.equal(response.body.user.name, 'admin');
      assert.equal(response.body.credential, 'access_key');
    }
  });

  test('another region in the scope verifies too', async () => {
    const response = await send(await sign({ pathname: '/api/me', region: 'eu-central-1' }));
    assert.equal(response.status, 200, response.text);
  });

  test('a signed POST with a JSON body to /api/tokens creates a working token', async () => {
    for (const applyChecksum of [true, false]) {
      const body = JSON.stringify({ name: `sigv4-${applyChecksum}` });
      const signed = await sign({
        method: 'POST', pathname: '/api/tokens', headers: { 'content-type': 'application/json' }, body, applyChecksum,
      });
      assert.equal('x-amz-content-sha256' in signed.headers, applyChecksum);
      const response = await send(signed);
      assert.equal(response.status, 201, `applyChecksum ${applyChecksum}: ${response.text}`);
      assert.equal(response.body.name, `sigv4-${applyChecksum}`);
      const me = await server.api('GET', '/api/me', { token: response.body.token });
      assert.equal(me.status, 200);
      assert.equal(me.body.user.name, 'admin');
      assert.equal(me.body.credential, 'api_token');
    }
  });

  test('an UNSIGNED-PAYLOAD request verifies', async () => {
    const signed = await sign({
      method: 'POST', pathname: '/api/tokens', headers: { 'content-type': 'application/json', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: JSON.stringify({ name: 'unsigned-payload' }),
    });
    const response = await send(signed);
    assert.equal(response.status, 201, response.text);
  });

  test('signed query-string parameters verify: prefix=a%2Fb&recursive=false', async () => {
    const signed = await sign({ pathname: '/api/lake/objects', query: { prefix: 'a/b', recursive: 'false' } });
    const response = await send(signed, { rawQuery: 'prefix=a%2Fb&recursive=false' });
    assert.equal(response.status, 200, response.text);
    // S3 semantics: one level under the prefix "a/b" is the common prefix "a/b/".
    assert.deepEqual(response.body.objects, []);
    assert.deepEqual(response.body.prefixes, ['a/b/']);

    const inside = await send(await sign({ pathname: '/api/lake/objects', query: { prefix: 'a/b/', recursive: 'false' } }));
    assert.equal(inside.status, 200, inside.text);
    assert.deepEqual(inside.body.objects.map((o) => o.key).sort(), ['a/b/one.txt', 'a/b/two.txt']);
    assert.deepEqual(inside.body.prefixes, ['a/b/deeper/']);

    // The same parameters in another order on the wire, and characters that need escaping.
    const reordered = await send(signed, { rawQuery: 'recursive=false&prefix=a%2Fb' });
    assert.equal(reordered.status, 200, reordered.text);
    const special = await sign({ pathname: '/api/lake/objects', query: { prefix: 'sp ace/ü (1)', recursive: 'true' } });
    const found = await send(special);
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.body.objects.map((o) => o.key), ['sp ace/ü (1).txt']);
    const object = await sign({ pathname: '/api/lake/object', query: { key: 'sp ace/ü (1).txt' } });
    const read = await send(object);
    assert.equal(read.status, 200, read.text);
    assert.equal(read.text, 'data');
  });

  test('roles apply to access keys: a viewer key may read but not write', async () => {
    const credentials = { accessKeyId: viewerKey.access_key_id, secretAccessKey: viewerKey.secret_access_key };
    const me = await send(await sign({ pathname: '/api/me', credentials }));
    assert.equal(me.status, 200, me.text);
    assert.equal(me.body.user.name, 'val');
    const put = await send(await sign({
      method: 'PUT', pathname: '/api/lake/object', query: { key: 'viewer.txt' }, body: 'nope', credentials,
    }));
    assert.equal(put.status, 403, put.text);
    assert.equal(put.body.error.code, 'PermissionDenied');
    const users = await send(await sign({ pathname: '/api/users', credentials }));
    assert.equal(users.status, 403, users.text);
  });

  test('a wrong secret is refused (401)', async () => {
    const credentials = { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) };
    assertRejected(await send(await sign({ pathname: '/api/me', credentials })), 'wrong secret');
    const otherUsersSecret = { accessKeyId: key.access_key_id, secretAccessKey: viewerKey.secret_access_key };
    assertRejected(await send(await sign({ pathname: '/api/me', credentials: otherUsersSecret })), "another key's secret");
    const unknown = { accessKeyId: 'BKNOSUCHKEY123456789', secretAccessKey: key.secret_access_key };
    assertRejected(await send(await sign({ pathname: '/api/me', credentials: unknown })), 'unknown key id');
  });

  test('a body changed after signing is refused (401), with and without x-amz-content-sha256', async () => {
    for (const applyChecksum of [true, false]) {
      const signed = await sign({
        method: 'POST', pathname: '/api/tokens', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'original' }), applyChecksum,
      });
      signed.body = JSON.stringify({ name: 'tampered' });
      assertRejected(await send(signed), `tampered body, applyChecksum ${applyChecksum}`);
    }
    const tokens = await send(await sign({ pathname: '/api/tokens' }));
    assert.ok(!tokens.body.tokens.some((t) => t.name === 'tampered'), 'no token was created from a tampered body');
  });

  test('a signed header changed after signing is refused (401): x-amz-date, x-amz-meta-*, content-type', async () => {
    const base = () => sign({ pathname: '/api/me', headers: { 'x-amz-meta-note': 'signed value', 'content-type': 'text/plain' } });
    const ok = await send(await base());
    assert.equal(ok.status, 200, `unchanged request verifies: ${ok.text}`);

    const changedMeta = await base();
    changedMeta.headers['x-amz-meta-note'] = 'changed value';
    assertRejected(await send(changedMeta), 'x-amz-meta-note changed');

    const changedDate = await base();
    const date = changedDate.headers['x-amz-date'];
    const later = new Date(Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`) + 1000);
    changedDate.headers['x-amz-date'] = later.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    assertRejected(await send(changedDate), 'x-amz-date changed by one second');

    const changedType = await base();
    changedType.headers['content-type'] = 'application/json';
    assertRejected(await send(changedType), 'content-type changed');

    const dropped = await base();
    delete dropped.headers['x-amz-meta-note'];
    assertRejected(await send(dropped), 'signed header removed');

    const added = await base();
    added.headers['x-amz-meta-extra'] = 'not signed';
    assertRejected(await send(added), 'unsigned x-amz-* header added');
  });

  test('the path, query or method changed after signing is refused (401)', async () => {
    const me = await sign({ pathname: '/api/me' });
    assertRejected(await send(me, { pathname: '/api/tokens' }), 'path changed');

    const listing = await sign({ pathname: '/api/lake/objects', query: { prefix: 'a/b', recursive: 'false' } });
    assertRejected(await send(listing, { rawQuery: 'prefix=a%2Fc&recursive=false' }), 'query value changed');
    assertRejected(await send(listing, { rawQuery: 'prefix=a%2Fb&recursive=false&extra=1' }), 'query parameter added');
    assertRejected(await send(listing, { rawQuery: 'prefix=a%2Fb' }), 'query parameter removed');

    const get = await sign({ method: 'GET', pathname: '/api/lake/object', query: { key: 'a/c.txt' } });
    get.method = 'DELETE';
    assertRejected(await send(get), 'method changed');
    assert.equal((await home.run(['cat', 'lake://a/c.txt'])).stdout, 'data', 'the object was not deleted');
  });

  test('a signing time 20 minutes in the past or future is refused (401); 5 minutes is within the allowed skew', async () => {
    const minutes = (n) => new Date(Date.now() + n * 60 * 1000);
    assertRejected(await send(await sign({ pathname: '/api/me', signingDate: minutes(-20) })), '20 minutes old');
    assertRejected(await send(await sign({ pathname: '/api/me', signingDate: minutes(20) })), '20 minutes ahead');
    const recent = await send(await sign({ pathname: '/api/me', signingDate: minutes(-5) }));
    assert.equal(recent.status, 200, `5 minutes old: ${recent.text}`);
  });

  test('a revoked access key is refused (401)', async () => {
    const temp = await home.json(['access-key', 'create']);
    const credentials = { accessKeyId: temp.access_key_id, secretAccessKey: temp.secret_access_key };
    const before = await send(await sign({ pathname: '/api/me', credentials }));
    assert.equal(before.status, 200, `the new key works: ${before.text}`);
    await home.ok(['access-key', 'revoke', temp.access_key_id]);
    assertRejected(await send(await sign({ pathname: '/api/me', credentials })), 'revoked key');
    // Other keys keep working.
    assert.equal((await send(await sign({ pathname: '/api/me' }))).status, 200);
  });

  test("deleting a user ends their access keys (401)", async () => {
    await home.json(['user', 'create', 'gone', '--role', 'editor']);
    const temp = await home.json(['access-key', 'create', '--user', 'gone']);
    const credentials = { accessKeyId: temp.access_key_id, secretAccessKey: temp.secret_access_key };
    assert.equal((await send(await sign({ pathname: '/api/me', credentials }))).status, 200);
    await home.ok(['user', 'delete', 'gone']);
    assertRejected(await send(await sign({ pathname: '/api/me', credentials })), 'key of a deleted user');
  });

  test('malformed Authorization headers are refused (401), not 500', async () => {
    const signed = await sign({ pathname: '/api/me' });
    const variants = [
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 Credential=x',
      signed.headers.authorization.replace(/Signature=[0-9a-f]+/, 'Signature=zz'),
      signed.headers.authorization.replace(/SignedHeaders=[^,]+/, 'SignedHeaders=host'),
      signed.headers.authorization.replace(/Credential=[^/]+/, 'Credential='),
    ];
    for (const authorization of variants) {
      const copy = { ...signed, headers: { ...signed.headers, authorization } };
      assertRejected(await send(copy), `Authorization: ${authorization.slice(0, 60)}`);
    }
    const streaming = await sign({ pathname: '/api/me', headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' } });
    const response = await send(streaming);
    assert.ok(response.status === 401 || response.status === 501, `aws-chunked: ${response.status} ${response.text}`);
  });
});
