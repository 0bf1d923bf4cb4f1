// End-to-end tests of basin's edges under hostile or careless clients: half-open
// connections (slowloris), malformed and mistyped request bodies, what 500 answers reveal,
// symlinks in a local lake, and `basin rm` of the whole lake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import {
  BASIN_BIN, childEnv, createHome, editConfig, login, removeDir, sleep, startServer, tempDir, within,
} from './lib/basin.mjs';

/** Opens a TCP connection to the server that sends `text` and then nothing more. */
function halfOpenConnection(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.closedByServer = false;
    socket.on('error', () => {});  // a reset by the server is what some tests wait for
    socket.on('close', () => { socket.closedByServer = true; });
    socket.once('connect', () => {
      socket.write(text, () => resolve(socket));
    });
    socket.once('error', reject);
  });
}

/** A raw HTTP/1.1 exchange: writes `text`, resolves to {status, headers, body} of the answer. */
function rawExchange(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const parts = [];
    socket.on('data', (chunk) => {
      parts.push(chunk);
      const all = Buffer.concat(parts).toString('utf8');
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number((/content-length: *(\d+)/i.exec(all.slice(0, end)) || [])[1] || 0);
      if (all.length - end - 4 < length) return;
      socket.destroy();
      const [statusLine, ...headerLines] = all.slice(0, end).split('\r\n');
      const headers = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = all.slice(end + 4, end + 4 + length);
      try { body = JSON.parse(body); } catch { /* keep the text */ }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed without an answer to ${JSON.stringify(text.slice(0, 60))}`)));
    socket.write(text);
  });
}

describe('slow and half-open connections', () => {
  let home;
  let server;
  const sockets = [];

  before(async () => {
    home = await createHome();
    editConfig(home, (text) => text.replace(/^ {2}read_timeout: .*$/m, '  read_timeout: 3s'));
    server = await startServer(home);
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await server?.stop();
    home?.cleanup();
  });

  test('/healthz answers at once while 100 connections hold half a request line', async () => {
    for (let i = 0; i < 100; i++) sockets.push(await halfOpenConnection(server.port, 'GET /healt'));
    await sleep(300);  // every one accepted and read from by now
    const started = Date.now();
    const answer = await within(server.fetch('/healthz').then((response) => response.status), 3000, 'no answer');
    assert.equal(answer, 200, `/healthz after ${Date.now() - started} ms`);
    assert.ok(sockets.every((socket) => !socket.closedByServer), 'the half-open connections are still open');
  });

  test('the server closes connections silent for server.read_timeout mid-request', async () => {
    // read_timeout is 3 s here; the sockets of the test above went silent then.
    for (let i = 0; i < 100 && !sockets.every((socket) => socket.closedByServer); i++) await sleep(100);
    assert.ok(sockets.every((socket) => socket.closedByServer),
      `${sockets.filter((socket) => !socket.closedByServer).length} of ${sockets.length} still open`);
    assert.equal((await server.fetch('/healthz')).status, 200);
  });
});

/** Asserts an error answer: status, {"error":{"code","message"}} and an X-Request-Id. */
function assertError(response, status, code, what) {
  const label = `${what} -> ${response.status} ${response.text ?? JSON.stringify(response.body)}`;
  assert.equal(response.status, status, label);
  assert.equal(response.body?.error?.code, code, label);
  assert.equal(typeof response.body.error.message, 'string', label);
  return response.body.error.message;
}

describe('HTTP request edges', () => {
  let home;
  let server;
  let editor;

  before(async () => {
    home = await createHome();
    await home.ok(['user', 'create', 'eddie', '--role', 'editor', '--password', 'eddie-password-456']);
    server = await startServer(home);
    editor = await login(server, 'eddie', 'eddie-password-456');
  });

  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('wrongly typed JSON fields answer 400 naming the field, not 500', async () => {
    const query = await server.api('POST', '/api/query', { token: editor, json: { sql: 'SELECT 1', max_rows: 'abc' } });
    const message = assertError(query, 400, 'InvalidArgument', 'max_rows: "abc"');
    assert.match(message, /'max_rows'/);
    assert.doesNotMatch(message, /json\.exception/);
    const cache = await server.api('POST', '/api/query', { token: editor, json: { sql: 'SELECT 1', cache: 'yes' } });
    assert.match(assertError(cache, 400, 'InvalidArgument', 'cache: "yes"'), /'cache'/);

    assert.equal((await server.api('POST', '/api/catalog/databases', { token: editor, json: { name: 'web' } })).status, 201);
    const table = { name: 't', location: 'lake://t/', format: 'csv', columns: [{ name: 'a', type: 5 }] };
    const typed = await server.api('POST', '/api/catalog/databases/web/tables', { token: editor, json: table });
    assert.match(assertError(typed, 400, 'InvalidArgument', 'column type 5'), /wrong type: type must be string, but is number/);
    const { location, ...missing } = table;
    const untold = await server.api('POST', '/api/catalog/databases/web/tables', { token: editor, json: missing });
    assert.match(assertError(untold, 400, 'InvalidArgument', 'no location'), /missing field 'location'/);
    assert.doesNotMatch(untold.body.error.message, /json\.exception/);
  });

  test('500 answers carry a request id, never server paths or library messages; the log has the detail', async () => {
    const key = 'x'.repeat(300);  // a name longer than the file system allows
    for (const [method, body] of [['PUT', 'data'], ['GET', undefined]]) {
      const response = await server.api(method, `/api/lake/object?key=${key}`, { token: editor, body });
      const message = assertError(response, 500, 'IOError', `${method} of a 300-character key`);
      const id = response.headers.get('x-request-id');
      assert.ok(message.includes(id), `the message names the request id ${id}: ${message}`);
      for (const secret of [home.home, home.lake, key, 'File name too long']) {
        assert.ok(!response.text.includes(secret), `the answer does not reveal ${secret.slice(0, 40)}: ${response.text}`);
      }
      const logged = server.logLines().find((line) => line.request_id === id && line.event === 'http_internal_error');
      assert.ok(logged, `a log line with request id ${id} has the detail`);
      assert.match(logged.error, /File name too long/);
    }
  });

  test('a POST without Content-Length gets 411 at once (not a wait for the read timeout)', async () => {
    const started = Date.now();
    const answer = await within(rawExchange(server.port,
      'POST /api/query HTTP/1.1\r\nHost: basin\r\n' +
      `Authorization: Bearer ${editor}\r\nContent-Type: application/json\r\n\r\n{"sql": "SELECT 1"}`), 4000, null);
    assert.ok(answer, `no answer within 4 s (after ${Date.now() - started} ms)`);
    assert.equal(answer.status, 411, JSON.stringify(answer));
    assert.equal(answer.body.error.code, 'LengthRequired');
    assert.match(answer.body.error.message, /Content-Length/);
  });

  test('a form body over httplib\'s form limit gets 413 stating that limit', async () => {
    const response = await server.api('PUT', '/api/lake/object?key=form.txt', {
      token: editor, body: 'a=' + 'x'.repeat(10000), headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    const message = assertError(response, 413, 'PayloadTooLarge', 'a 10 kB form body');
    assert.match(message, /8192 bytes/);
    assert.match(message, /application\/x-www-form-urlencoded/);
    const raw = await server.api('PUT', '/api/lake/object?key=raw.bin', {
      token: editor, body: 'x'.repeat(10000), headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(raw.status, 201, raw.text);
  });

  test('JSON endpoints refuse bodies of other types with 415; JSON, text/plain and the AWS and NDJSON endpoints work', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const response = await server.api('POST', '/api/query', { token: editor, body: 'sql=SELECT+1', headers: { 'Content-Type': type } });
      const message = assertError(response, 415, 'UnsupportedMediaType', type);
      assert.match(message, /application\/json/);
    }
    for (const type of ['application/json; charset=utf-8', 'text/plain;charset=UTF-8', 'APPLICATION/JSON']) {
      const response = await server.api('POST', '/api/query', { token: editor, body: '{"sql": "SELECT 1 AS one"}', headers: { 'Content-Type': type } });
      assert.equal(response.status, 200, `${type}: ${response.text}`);
    }
    // Bodies that are not JSON keep their own types.
    assert.equal((await server.api('PUT', '/api/lake/object?key=x.csv', {
      token: editor, body: 'a\n1\n', headers: { 'Content-Type': 'text/csv' } })).status, 201);
    const firehose = await server.fetch('/', {
      method: 'POST', token: editor, body: '{}',
      headers: { 'X-Amz-Target': 'Firehose_20150804.ListDeliveryStreams', 'Content-Type': 'application/x-amz-json-1.1' },
    });
    assert.equal(firehose.status, 200, await firehose.text());
  });
});

/** Runs `command` with a terminal as stdin and stderr (util-linux `script`), typing `input`. */
function runInTerminal(command, input) {
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv(), stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
    child.stdin.end(input);
  });
}

const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;
const hasScript = spawnSync('script', ['--version']).status === 0;

describe('basin rm of the whole lake', () => {
  let home;
  let work;

  before(async () => {
    home = await createHome();
    work = tempDir();
    writeFileSync(path.join(work, 'a.csv'), 'a\n1\n');
  });

  after(() => {
    removeDir(work);
    home?.cleanup();
  });

  async function fill() {
    await home.ok(['cp', path.join(work, 'a.csv'), 'lake://raw/a.csv']);
    await home.ok(['cp', path.join(work, 'a.csv'), 'lake://top.csv']);
  }
  async function keys() {
    return (await home.json(['ls', '-r', 'lake://'])).map((object) => object.key).sort();
  }

  test('rm -r of the lake root is refused without --yes-delete-everything, in every spelling', async () => {
    await fill();
    for (const target of ['lake://', 'lake:///', '/', '']) {
      const result = await home.run(['rm', '-r', target]);
      assert.notEqual(result.code, 0, `rm -r ${JSON.stringify(target)} must fail: ${result.stderr}`);
      assert.match(result.stderr, /--yes-delete-everything/, target);
      assert.deepEqual(await keys(), ['raw/a.csv', 'top.csv'], `nothing removed by rm -r ${JSON.stringify(target)}`);
    }
    // A prefix below the root needs no confirmation.
    await home.ok(['rm', '-r', 'lake://raw/']);
    assert.deepEqual(await keys(), ['top.csv']);
  });

  test('rm -r lake:// --yes-delete-everything removes every object', async () => {
    await fill();
    const result = await home.ok(['rm', '-r', 'lake://', '--yes-delete-everything']);
    assert.match(result.stderr, /removed 2 object/);
    assert.deepEqual(await keys(), []);
  });

  test('at a terminal, rm -r lake:// asks and removes only on the typed confirmation', { skip: !hasScript && 'needs util-linux script' }, async () => {
    await fill();
    const command = `${shellQuote(BASIN_BIN)} --home ${shellQuote(home.home)} rm -r lake://`;
    const declined = await runInTerminal(command, 'yes\n');
    assert.notEqual(declined.code, 0, declined.output);
    assert.match(declined.output, /Type 'delete everything'/);
    assert.match(declined.output, /nothing removed/);
    assert.deepEqual(await keys(), ['raw/a.csv', 'top.csv']);

    const confirmed = await runInTerminal(command, 'delete everything\n');
    assert.equal(confirmed.code, 0, confirmed.output);
    assert.deepEqual(await keys(), []);
  });
});
