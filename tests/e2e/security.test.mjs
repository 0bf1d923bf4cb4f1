// End-to-end tests of the server's defences around SQL and streams: CTAS and INSERT
// OVERWRITE over the API, statements that would change the engine for everyone (macros,
// schemas), s3:// URLs outside the lake and query.allowed_urls, the privacy of asynchronous
// results, cancelling queries (client disconnect, admin cancel, default run-time limit),
// truncated synchronous answers, deeply nested stream records, and SIGTERM with a query
// still running.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  BASIN_BIN, NO_S3_REASON, childEnv, createHome, editConfig, login, s3Env, s3TestServer, sleep, startServer, uniqueId, waitFor,
  within,
} from './lib/basin.mjs';

// Long enough to need cancelling or a limit (tens of seconds); reads no lake data.
const endless = (alias) => `SELECT sum(i % 7) AS ${alias} FROM range(10000000000) t(i)`;
const FINISHED = new Set(['succeeded', 'failed', 'refused', 'cancelled']);
const S3 = s3TestServer();
// A prefix of the S3 test bucket of this run only: public/ and other/ below it.
const S3_ROOT = S3 ? `s3://${S3.bucket}/${uniqueId('security-')}` : null;

/** Asserts an error answer with `status` and `code`; returns its message. */
function assertError(response, status, code, what) {
  const label = `${what} -> ${response.status} ${response.text}`;
  assert.equal(response.status, status, label);
  if (code) assert.equal(response.body?.error?.code, code, label);
  assert.equal(typeof response.body?.error?.message, 'string', label);
  return response.body.error.message;
}

/** Query helpers bound to a server and a token table. */
function client(getServer, tokens) {
  const api = (...args) => getServer().api(...args);
  const query = (who, json) => api('POST', '/api/query', { token: tokens[who], json });
  const submit = async (who, json) => {
    const response = await api('POST', '/api/queries', { token: tokens[who], json });
    assert.equal(response.status, 202, response.text);
    assert.ok(Number.isInteger(response.body.id), response.text);
    return response.body.id;
  };
  const status = async (who, id) => {
    const response = await api('GET', `/api/queries/${id}`, { token: tokens[who] });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const finished = (who, id, ms = 15000) => waitFor(`query ${id} to end`, async () => {
    const record = await status(who, id);
    return FINISHED.has(record.status) ? record : null;
  }, ms);
  const history = async (who, search) => {
    const response = await api('GET', `/api/queries?search=${encodeURIComponent(search)}`, { token: tokens[who] });
    assert.equal(response.status, 200, response.text);
    return response.body.queries;
  };
  return { query, submit, status, finished, history };
}

describe('SQL and streams on one server', () => {
  let home;
  let server;
  const tokens = {};
  const { query, submit, status, finished, history } = client(() => server, tokens);

  before(async () => {
    home = await createHome({ label: 'basin-security-', env: S3 ? s3Env() : {} });
    editConfig(home, (text) => text.replace(/^ {2}sync_max_rows: .*$/m, '  sync_max_rows: 1000'));
    for (const [name, role] of [['eddie', 'editor'], ['edna', 'editor'], ['vic', 'viewer']]) {
      await home.ok(['user', 'create', name, '--role', role, '--password', `${name}-password-123`]);
    }
    await home.ok(['stream', 'create', 'deep', '--table', 'web.deep', '--buffer-seconds', '1',
      '--prefix-expression', '']);
    await home.ok(['stream', 'create', 'spell', '--table', 'web.spell', '--buffer-seconds', '1',
      '--prefix-expression', '']);
    server = await startServer(home);
    tokens.admin = await login(server, home.admin.user, home.admin.password);
    for (const name of ['eddie', 'edna', 'vic']) tokens[name] = await login(server, name, `${name}-password-123`);
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('CTAS and INSERT OVERWRITE over the API write the table; the server stays up', async () => {
    const database = await server.api('POST', '/api/catalog/databases', { token: tokens.eddie, json: { name: 'mart' } });
    assert.equal(database.status, 201, database.text);
    const created = await query('eddie', { sql: 'CREATE TABLE mart.t1 AS SELECT 1 AS x' });
    assert.equal(created.status, 200, created.text);
    assert.equal((await server.fetch('/healthz')).status, 200, 'alive after CTAS');
    const selected = await query('vic', { sql: 'SELECT * FROM mart.t1', cache: false });
    assert.equal(selected.status, 200, selected.text);
    assert.deepEqual(selected.body.columns.map((c) => c.name), ['x']);
    assert.deepEqual(selected.body.rows, [['1']]);

    const id = await submit('eddie', { sql: 'INSERT OVERWRITE mart.t1 SELECT 2 AS x' });
    const record = await finished('eddie', id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record));
    assert.equal(record.statement_kind, 'write');
    assert.equal(record.rows, 1);
    // The server reads the new data (its table cache once kept the old, deleted folder).
    const after = await query('vic', { sql: 'SELECT * FROM mart.t1', cache: false });
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(after.body.rows, [['2']]);
    // Unqualified tables in a CTAS's SELECT are read in the request's database.
    const copied = await query('eddie', { sql: 'CREATE TABLE mart.t2 AS SELECT x FROM t1', database: 'mart' });
    assert.equal(copied.status, 200, copied.text);
    const nul = await query('eddie', { sql: 'SELECT 1;\u0000DROP TABLE x' });
    assertError(nul, 400, 'InvalidArgument', 'a NUL byte in SQL');
    assert.equal((await server.fetch('/healthz')).status, 200, 'alive after INSERT OVERWRITE');
  });

  test('macros and schemas that would change the engine for everyone are refused', async () => {
    const macro = await query('eddie', { sql: 'CREATE MACRO lower(x) AS 42' });
    assertError(macro, 403, 'PermissionDenied', 'CREATE MACRO lower');
    const lower = await query('edna', { sql: "SELECT lower('A') AS l", cache: false });
    assert.equal(lower.status, 200, lower.text);
    assert.deepEqual(lower.body.rows, [['a']]);
    const schema = await query('eddie', { sql: 'CREATE SCHEMA shop' });
    assertError(schema, 403, 'PermissionDenied', 'CREATE SCHEMA shop');
    const admin = await query('admin', { sql: 'CREATE MACRO upper(x) AS 42' });
    assertError(admin, 403, 'PermissionDenied', 'CREATE MACRO upper as admin');
    const upper = await query('vic', { sql: "SELECT upper('b') AS u", cache: false });
    assert.deepEqual(upper.body.rows, [['B']], upper.text);
  });

  test('temporary macros and tables work within one request and are gone in the next', async () => {
    const macro = await query('eddie', { sql: 'CREATE TEMP MACRO m1(x) AS x + 1; SELECT m1(1) AS y', cache: false });
    assert.equal(macro.status, 200, macro.text);
    assert.deepEqual(macro.body.rows, [['2']]);
    const made = await query('eddie', { sql: 'CREATE TEMP TABLE tt AS SELECT 1 AS y' });
    assert.equal(made.status, 200, made.text);
    for (const [who, sql] of [['eddie', 'SELECT * FROM tt'], ['edna', 'SELECT * FROM tt'], ['eddie', 'SELECT m1(1)'], ['edna', 'SELECT m1(1)']]) {
      const later = await query(who, { sql, cache: false });
      assert.match(assertError(later, 400, 'InvalidArgument', `${who}: ${sql}`), /does not exist/);
    }
  });

  test('s3:// outside the lake is refused by default, naming query.allowed_urls', { skip: S3 ? false : NO_S3_REASON }, async () => {
    const file = path.join(home.root, 'x.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    await home.ok(['cp', file, `${S3_ROOT}/other/x.csv`]);
    await home.ok(['cp', file, `${S3_ROOT}/public/x.csv`]);
    for (const key of ['other/x.csv', 'public/x.csv']) {
      const read = await query('vic', { sql: `SELECT * FROM read_csv('${S3_ROOT}/${key}')`, cache: false });
      const message = assertError(read, 403, 'PermissionDenied', `read_csv of ${key}`);
      assert.match(message, /query\.allowed_urls/);
    }
  });

  test('asynchronous results belong to their owner; the result area is closed to others', async () => {
    const id = await submit('eddie', { sql: 'SELECT 42 AS x' });
    const record = await finished('eddie', id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record));
    const own = await server.api('GET', `/api/queries/${id}/results`, { token: tokens.eddie });
    assert.equal(own.status, 200, own.text);
    assert.deepEqual(own.body.rows, [['42']]);

    for (const who of ['edna', 'vic']) {
      const results = await server.api('GET', `/api/queries/${id}/results`, { token: tokens[who] });
      assert.ok([403, 404].includes(results.status), `${who}: ${results.status} ${results.text}`);
      const parquet = await server.api('GET', `/api/queries/${id}/results?format=parquet`, { token: tokens[who] });
      assert.ok([403, 404].includes(parquet.status), `${who} parquet: ${parquet.status}`);
    }

    // The object's name is not guessable from the id.
    assert.match(record.result_location, new RegExp(`^lake://_basin/query-results/${id}-[0-9a-f]{32}\\.parquet$`));
    assert.notEqual(record.result_location, `lake://_basin/query-results/${id}.parquet`);
    const key = record.result_location.slice('lake://'.length);
    const listed = await server.api('GET', '/api/lake/objects?prefix=_basin/', { token: tokens.admin });
    assert.equal(listed.status, 200, listed.text);
    assert.ok(listed.text.includes(key), `admin lists ${key}: ${listed.text.slice(0, 500)}`);

    for (const who of ['eddie', 'edna', 'vic']) {
      const list = await server.api('GET', '/api/lake/objects?prefix=_basin/', { token: tokens[who] });
      assert.ok(list.status === 403 || (list.status === 200 && !list.text.includes('query-results')),
        `${who} lists _basin/: ${list.status} ${list.text.slice(0, 300)}`);
      const object = await server.api('GET', `/api/lake/object?key=${encodeURIComponent(key)}`, { token: tokens[who] });
      assert.equal(object.status, 403, `${who} reads ${key}: ${object.status} ${object.text.slice(0, 300)}`);
    }
    for (const who of ['vic', 'edna']) {
      const sql = await query(who, { sql: "SELECT * FROM read_parquet('lake://_basin/query-results/*')", cache: false });
      assertError(sql, 403, 'PermissionDenied', `${who}: read_parquet of the result area`);
      const one = await query(who, { sql: `SELECT * FROM read_parquet('${record.result_location}')`, cache: false });
      assertError(one, 403, 'PermissionDenied', `${who}: read_parquet of the result`);
    }
  });

  test('a synchronous query stops as cancelled when its client goes away', async () => {
    const alias = 'abandoned_total';
    const controller = new AbortController();
    const request = server.fetch('/api/query', {
      method: 'POST',
      token: tokens.eddie,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: endless(alias), cache: false }),
      signal: controller.signal,
    });
    const aborted = request.then(() => 'answered', (error) => error.name);
    await sleep(1000);
    controller.abort();
    assert.equal(await aborted, 'AbortError');
    const started = Date.now();
    const record = await waitFor('the abandoned query to end', async () => {
      const [found] = await history('eddie', alias);
      return found && FINISHED.has(found.status) ? found : null;
    }, 10000);
    assert.equal(record.status, 'cancelled', JSON.stringify(record));
    assert.ok(Date.now() - started < 8000, `ended ${Date.now() - started} ms after the disconnect`);
    assert.equal((await server.fetch('/healthz')).status, 200);
  });

  test('an admin lists every running query and cancels another user\'s', async () => {
    const id = await submit('eddie', { sql: endless('admin_cancelled_total') });
    await waitFor(`query ${id} to run`, async () => (await status('eddie', id)).status === 'running', 10000);
    const running = await server.api('GET', '/api/queries?status=running&all=true', { token: tokens.admin });
    assert.equal(running.status, 200, running.text);
    const listed = running.body.queries.find((q) => q.id === id);
    assert.ok(listed, `admin sees query ${id}: ${running.text.slice(0, 500)}`);
    assert.equal(listed.status, 'running');
    assert.equal(listed.user, 'eddie');
    assert.ok(running.body.queries.every((q) => q.status === 'running'), running.text.slice(0, 500));

    const notYours = await server.api('POST', `/api/queries/${id}/cancel`, { token: tokens.edna });
    assert.ok([403, 404].includes(notYours.status), `another editor cancels: ${notYours.status} ${notYours.text}`);
    assert.equal((await status('eddie', id)).status, 'running');

    const cancel = await server.api('POST', `/api/queries/${id}/cancel`, { token: tokens.admin });
    assert.equal(cancel.status, 202, cancel.text);
    const record = await finished('eddie', id, 10000);
    assert.equal(record.status, 'cancelled', JSON.stringify(record));
  });

  test('a big synchronous answer is truncated at query.sync_max_rows and says so', async () => {
    const answer = await query('vic', { sql: 'SELECT i FROM range(300000) t(i)', max_rows: 1000000, cache: false });
    assert.equal(answer.status, 200, answer.text.slice(0, 500));
    assert.equal(answer.body.truncated, true);
    assert.equal(answer.body.rows.length, 1000);
    assert.match(answer.body.truncated_reason, /query\.sync_max_rows/);
    assert.match(answer.body.full_result, /POST \/api\/queries/);
    const small = await query('vic', { sql: 'SELECT i FROM range(300) t(i)', max_rows: 1000000, cache: false });
    assert.equal(small.status, 200, small.text.slice(0, 500));
    assert.equal(small.body.truncated, false);
    assert.equal(small.body.rows.length, 300);
  });

  test('a missing lake file is an error, not an empty answer', async () => {
    const answer = await query('vic', { sql: "SELECT * FROM read_text('lake://nope/missing.txt')", cache: false });
    assert.equal(answer.status, 404, answer.text);
    assert.equal(answer.body.error.code, 'NotFound');
    assert.match(answer.body.error.message, /lake:\/\/nope\/missing\.txt/);
  });

  test('max_rows of the wrong type answers 400 naming it', async () => {
    const answer = await query('vic', { sql: 'SELECT 1', max_rows: 'abc' });
    assert.match(assertError(answer, 400, 'InvalidArgument', 'max_rows: "abc"'), /max_rows/);
  });

  test('a record nested 1000 deep is refused alone; its neighbours are delivered', async () => {
    const deep = '{"a":'.repeat(999) + '1' + '}'.repeat(999);  // 1000 levels with the record itself
    const body = [JSON.stringify({ id: 1, kind: 'good' }), `{"id": 2, "kind": "deep", "n": ${deep}}`,
      JSON.stringify({ id: 3, kind: 'good' })].join('\n');
    const answer = await server.api('POST', '/api/streams/deep/records', {
      token: tokens.eddie, body, headers: { 'Content-Type': 'application/x-ndjson' },
    });
    assert.equal(answer.status, 200, answer.text.slice(0, 500));
    assert.equal(answer.body.records, 3);
    assert.equal(answer.body.accepted, 2);
    assert.equal(answer.body.failed, 1);
    assert.equal(answer.body.errors.length, 1);
    assert.equal(answer.body.errors[0].index, 1);
    assert.match(answer.body.errors[0].message, /streams\.max_record_depth/);

    const rows = await waitFor('delivery of the good records', async () => {
      const read = await query('vic', { sql: 'SELECT id, kind FROM web.deep ORDER BY id', cache: false });
      if (read.status === 400 && /does not exist/.test(read.text)) return null;
      assert.equal(read.status, 200, read.text);
      return read.body.rows.length >= 2 ? read.body.rows : null;
    }, 15000, 200);
    assert.deepEqual(rows, [['1', 'good'], ['3', 'good']]);
    assert.equal((await server.fetch('/healthz')).status, 200);
  });
  test('records the engine cannot read go to the error prefix; their neighbours are delivered', async () => {
    // DuckDB cannot read a struct with two spellings of one field ("Duplicate name"), in one
    // record or across two: before, every delivery of the stream failed for good.
    const records = [{ id: 1, s: { A: 1 } }, { id: 2, s: { a: 2 } }, { id: 3, s: { A: 1, a: 2 } },
      { id: 4, s: { A: 4 } }];
    const answer = await server.api('POST', '/api/streams/spell/records', {
      token: tokens.eddie, body: records.map((r) => JSON.stringify(r)).join('\n'),
      headers: { 'Content-Type': 'application/x-ndjson' },
    });
    assert.equal(answer.status, 200, answer.text.slice(0, 500));
    assert.equal(answer.body.accepted, 4);

    const rows = await waitFor('delivery of the readable records', async () => {
      const read = await query('vic', { sql: 'SELECT id, s.A FROM web.spell ORDER BY id', cache: false });
      if (read.status === 400 && /does not exist/.test(read.text)) return null;
      assert.equal(read.status, 200, read.text);
      return read.body.rows.length >= 2 ? read.body.rows : null;
    }, 15000, 200);
    assert.deepEqual(rows, [['1', '1'], ['4', '4']]);

    const listed = await home.json(['ls', 'lake://streams/_errors/spell/']);
    assert.equal(listed.length, 1, JSON.stringify(listed));
    const { stdout } = await home.ok(['cat', `lake://${listed[0].key}`]);
    const refused = stdout.trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(refused.map((r) => JSON.parse(r.raw).id), [2, 3]);
    for (const r of refused) {
      assert.equal(r.code, 'InvalidArgument');
      assert.match(r.reason, /cannot read this record with the others .*Duplicate name/s);
      assert.ok(r.reason.length <= 1100, r.reason.length);
    }
    const stats = await waitFor('the refusals in the stream stats', async () => {
      const described = await server.api('GET', '/api/streams/spell', { token: tokens.admin });
      assert.equal(described.status, 200, described.text);
      return described.body.stats.delivered_records === 2 ? described.body.stats : null;
    }, 10000, 200);
    assert.equal(stats.failed_records, 2, JSON.stringify(stats));
    assert.equal(stats.last_delivery_error, '');
  });
});

describe('query.allowed_urls opens an s3:// prefix', { skip: S3 ? false : NO_S3_REASON }, () => {
  let home;
  let server;
  let vic;
  before(async () => {
    home = await createHome({ label: 'basin-security-urls-', env: s3Env() });
    editConfig(home, (text) => text.replace(/^ {2}# allowed_urls: .*$/m, `  allowed_urls: [${S3_ROOT}/public/]`));
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'vic-password-123']);
    const file = path.join(home.root, 'y.csv');
    writeFileSync(file, 'a,b\n3,4\n');
    await home.ok(['cp', file, `${S3_ROOT}/public/y.csv`]);
    await home.ok(['cp', file, `${S3_ROOT}/other/y.csv`]);
    server = await startServer(home);
    vic = await login(server, 'vic', 'vic-password-123');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('a viewer reads below the allowed prefix and nowhere else', async () => {
    const sql = (key) => ({ sql: `SELECT a, b FROM read_csv('${S3_ROOT}/${key}')`, cache: false });
    const allowed = await server.api('POST', '/api/query', { token: vic, json: sql('public/y.csv') });
    assert.equal(allowed.status, 200, allowed.text);
    assert.deepEqual(allowed.body.rows, [['3', '4']]);
    const refused = await server.api('POST', '/api/query', { token: vic, json: sql('other/y.csv') });
    assert.match(assertError(refused, 403, 'PermissionDenied', 'read_csv of other/'), /query\.allowed_urls/);
    // A prefix that only starts like the allowed one is not inside it.
    const lookalike = await server.api('POST', '/api/query', { token: vic, json: sql('public-not/y.csv') });
    assertError(lookalike, 403, 'PermissionDenied', 'read_csv of public-not/');
  });
});

describe('query.default_run_time_limit', () => {
  let home;
  let server;
  const tokens = {};
  const { query, history } = client(() => server, tokens);
  before(async () => {
    home = await createHome({ label: 'basin-security-limit-' });
    editConfig(home, (text) => text.replace(/^ {2}default_run_time_limit: .*$/m, '  default_run_time_limit: 2s'));
    await home.ok(['user', 'create', 'eddie', '--role', 'editor', '--password', 'eddie-password-123']);
    server = await startServer(home);
    tokens.eddie = await login(server, 'eddie', 'eddie-password-123');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('an endless synchronous query stops at the default limit, recorded with the reason', async () => {
    const alias = 'limited_total';
    const started = Date.now();
    const answer = await query('eddie', { sql: endless(alias), cache: false });
    const elapsed = Date.now() - started;
    assert.notEqual(answer.status, 200, answer.text);
    assert.ok(elapsed >= 1500 && elapsed < 10000, `answered after ${elapsed} ms`);
    assert.match(answer.body.error.message, /run-time limit/, answer.text);
    const [record] = await history('eddie', alias);
    assert.ok(record, 'the query is in the history');
    assert.ok(['failed', 'cancelled'].includes(record.status), JSON.stringify(record));
    assert.match(record.error, /run-time limit/);
  });
});

describe('SIGTERM with a query running', () => {
  let home;
  let server;
  before(async () => {
    home = await createHome({ label: 'basin-security-stop-' });
    editConfig(home, (text) => text.replace(/^ {2}shutdown_timeout: .*$/m, '  shutdown_timeout: 3s'));
    await home.ok(['user', 'create', 'eddie', '--role', 'editor', '--password', 'eddie-password-123']);
    server = await startServer(home);
  });
  after(async () => {
    await server?.stop('SIGKILL');
    home?.cleanup();
  });

  test('the server exits within server.shutdown_timeout, by itself', async (t) => {
    const token = await login(server, 'eddie', 'eddie-password-123');
    const pending = server.api('POST', '/api/query', { token, json: { sql: endless('sigterm_total'), cache: false } })
      .then((answer) => answer.status, (error) => error.name);
    await sleep(500);
    const started = Date.now();
    const exit = await server.stop('SIGTERM');
    const elapsed = Date.now() - started;
    t.diagnostic(`exit ${JSON.stringify(exit)} ${elapsed} ms after SIGTERM; the query got ${await within(pending, 1000, 'nothing yet')}`);
    assert.ok(elapsed < 8000, `exited ${elapsed} ms after SIGTERM (stop() sends SIGKILL at 10 s)`);
    assert.equal(exit.signal, null, JSON.stringify(exit));
    assert.equal(exit.code, 0, JSON.stringify(exit));
    await pending;  // answered or cut off, but not left hanging
  });
});

describe('basin query and Ctrl-C', () => {
  let home;
  before(async () => { home = await createHome({ label: 'basin-security-cli-' }); });
  after(() => home?.cleanup());

  // A second Ctrl-C ends the process at once (for work that does not look at the flag).
  for (const interrupts of [1, 2]) {
    test(`${interrupts} Ctrl-C stop${interrupts === 1 ? 's' : ''} an endless query within seconds`, async () => {
      const child = spawn(BASIN_BIN, ['--home', home.home, 'query', endless('cli_total')],
        { env: childEnv(), cwd: os.tmpdir(), stdio: 'pipe' });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (chunk) => { stderr += chunk; });
      const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
      await sleep(1000);
      assert.equal(child.exitCode, null, `still running after 1 s: ${stderr}`);
      const started = Date.now();
      for (let i = 0; i < interrupts; i++) {
        child.kill('SIGINT');
        await sleep(50);
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const { code, signal } = await closed;
      clearTimeout(timer);
      const elapsed = Date.now() - started;
      assert.equal(signal, null, `ended by itself, not killed (${elapsed} ms): ${stderr}`);
      assert.notEqual(code, 0, stderr);
      assert.ok(elapsed < 5000, `stopped after ${elapsed} ms`);
      assert.match(stderr, interrupts === 1 ? /cancel/i : /cancel|interrupted twice/i);
    });
  }
});

describe('a crawled JSON table of deeply nested records', () => {
  let home;
  before(async () => { home = await createHome({ label: 'basin-security-nested-' }); });
  after(() => home?.cleanup());

  test('is queryable: a column nested past 64 levels is typed JSON', async () => {
    let nested = '1';
    for (let i = 0; i < 1100; i++) nested = `{"a":${nested}}`;
    const file = path.join(home.root, 'deep.json');
    writeFileSync(file, `{"id": 1, "n": ${nested}}\n{"id": 2, "n": ${nested.replace('1', '22')}}\n`);
    await home.ok(['cp', file, 'lake://nested/deep/part.json']);
    await home.ok(['crawler', 'create', 'nested', '--target', 'lake://nested/', '--database', 'nest']);
    await home.ok(['crawler', 'run', 'nested'], { timeout: 60000 });
    const described = await home.json(['catalog', 'describe', 'nest.deep']);
    const column = described.columns.find((c) => c.name === 'n');
    assert.equal(column?.type, 'JSON', JSON.stringify(described.columns).slice(0, 300));
    const rows = await home.json(['query', 'SELECT id, length(CAST(n AS VARCHAR)) AS len FROM nest.deep ORDER BY id']);
    const lengths = (rows.rows ?? rows).map((row) => Object.values(row).map(String));
    assert.equal(lengths.length, 2, JSON.stringify(rows).slice(0, 300));
    assert.equal(Number(lengths[1][1]) - Number(lengths[0][1]), 1, JSON.stringify(lengths));
  });
});
