// End-to-end tests of the SQL engine's HTTP API: asynchronous queries (submit, status,
// paged results, CSV and Parquet downloads, cancel), partition pruning and EXPLAIN, the
// result cache, the per-request database, workgroup limits and queueing, what viewers may
// do, and synchronous CSV streaming.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createHome, login, sleep, startServer, waitFor } from './lib/basin.mjs';

// 30,000 events over ten days, 3,000 a day: dt = 2026-11-01 + id % 10.
const EVENTS = "SELECT i AS id, 'kind-' || (i % 7) AS kind, CAST(i * 0.25 AS DOUBLE) AS amount, " +
  "DATE '2026-11-01' + CAST(i % 10 AS INTEGER) AS dt FROM range(30000) t(i)";
// 3,000 clicks over three days, for the result cache (it gets a new object mid-test).
const CLICKS = "SELECT i AS id, 'page-' || (i % 5) AS page, " +
  "DATE '2026-11-01' + CAST(i % 3 AS INTEGER) AS dt FROM range(3000) t(i)";
// 300 visits over three days, for the cache after an overwrite.
const VISITS = "SELECT i AS id, DATE '2026-11-01' + CAST(i % 3 AS INTEGER) AS dt FROM range(300) t(i)";
const DAYS = Array.from({ length: 10 }, (_, i) => `dt=2026-11-${String(i + 1).padStart(2, '0')}`);
// Long enough to need cancelling or a limit (tens of seconds on two cores); reads no lake data.
const ENDLESS = 'SELECT sum(i % 7) AS total FROM range(10000000000) t(i)';
const FINISHED = new Set(['succeeded', 'failed', 'refused', 'cancelled']);

describe('the SQL engine over HTTP', () => {
  let home;
  let server;
  const tokens = {};

  const query = (who, json) => server.api('POST', '/api/query', { token: tokens[who], json });
  const submit = async (who, json) => {
    const response = await server.api('POST', '/api/queries', { token: tokens[who], json });
    assert.equal(response.status, 202, response.text);
    assert.equal(response.body.status, 'queued');
    assert.ok(Number.isInteger(response.body.id), response.text);
    return response.body.id;
  };
  const status = async (who, id) => {
    const response = await server.api('GET', `/api/queries/${id}`, { token: tokens[who] });
    assert.equal(response.status, 200, response.text);
    return response.body;
  };
  const finished = (who, id, ms = 20000) =>
    waitFor(`query ${id} to end`, async () => {
      const record = await status(who, id);
      return FINISHED.has(record.status) ? record : null;
    }, ms);
  const history = async (who, search) => {
    const response = await server.api('GET', `/api/queries?search=${encodeURIComponent(search)}`, { token: tokens[who] });
    assert.equal(response.status, 200, response.text);
    return response.body.queries;
  };

  before(async () => {
    home = await createHome({ label: 'basin-query-api-' });
    await home.ok(['query', `CREATE TABLE shop.events WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS ${EVENTS}`]);
    await home.ok(['query', `CREATE TABLE shop.clicks WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS ${CLICKS}`]);
    await home.ok(['query', `CREATE TABLE shop.visits WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS ${VISITS}`]);
    await home.ok(['workgroup', 'create', 'capped', '--bytes-scanned-limit', '1KB']);
    await home.ok(['workgroup', 'create', 'hasty', '--run-time-limit', '300ms']);
    await home.ok(['workgroup', 'create', 'tiny', '--memory-limit', '64MiB']);
    await home.ok(['workgroup', 'create', 'serial', '--max-concurrent', '1']);
    const users = [
      ['vic', 'viewer', 'primary'],
      ['bea', 'editor', 'capped'],
      ['tim', 'editor', 'hasty'],
      ['mo', 'editor', 'tiny'],
      ['sam', 'editor', 'serial'],
    ];
    for (const [name, role, workgroup] of users) {
      await home.ok(['user', 'create', name, '--role', role, '--password', `${name}-password-1`, '--workgroup', workgroup]);
    }
    server = await startServer(home);
    tokens.admin = await login(server, home.admin.user, home.admin.password);
    for (const [name] of users) tokens[name] = await login(server, name, `${name}-password-1`);
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('asynchronous SELECT: status with statistics, paged results, CSV and Parquet downloads', async () => {
    const sql = 'SELECT id, kind, amount, dt FROM shop.events ORDER BY id';
    const id = await submit('admin', { sql });
    const record = await finished('admin', id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record));
    assert.equal(record.id, id);
    assert.equal(record.user, home.admin.user);
    assert.equal(record.sql, sql);
    assert.equal(record.statement_kind, 'select');
    assert.equal(record.workgroup, 'primary');
    assert.equal(record.rows, 30000);
    assert.equal(record.partitions_scanned, 10);
    assert.equal(record.partitions_total, 10);
    assert.equal(record.objects_scanned, 10);
    assert.ok(record.bytes_read > 0, `bytes_read ${record.bytes_read}`);
    assert.ok(record.ended_at, 'an ended query has ended_at');
    assert.equal(record.error, '');
    // The name carries an HMAC of the id: nobody finds another user's result by counting.
    assert.match(record.result_location, new RegExp(`^lake://_basin/query-results/${id}-[0-9a-f]{32}\\.parquet$`));
    assert.equal(record.scans.length, 1);
    assert.equal(record.scans[0].table, 'shop.events');
    assert.deepEqual([...record.scans[0].partitions_kept].sort(), DAYS);

    // Pages of 1000, following next_offset to the end.
    const rows = [];
    let offset = 0;
    let pages = 0;
    while (offset !== null) {
      const page = await server.api('GET', `/api/queries/${id}/results?format=json&offset=${offset}&limit=1000`, { token: tokens.admin });
      assert.equal(page.status, 200, page.text);
      assert.equal(page.body.id, id);
      assert.equal(page.body.offset, offset);
      assert.equal(page.body.row_count, 30000);
      assert.deepEqual(page.body.columns.map((c) => c.name), ['id', 'kind', 'amount', 'dt']);
      assert.ok(page.body.rows.length > 0 && page.body.rows.length <= 1000, `page at ${offset}: ${page.body.rows.length} rows`);
      rows.push(...page.body.rows);
      offset = page.body.next_offset;
      assert.ok(++pages <= 31, 'next_offset must reach null');
    }
    assert.equal(pages, 30);
    assert.equal(rows.length, 30000);
    assert.deepEqual(rows[0], ['0', 'kind-0', '0.0', '2026-11-01']);
    assert.deepEqual(rows[29999], ['29999', 'kind-4', '7499.75', '2026-11-10']);
    assert.ok(rows.every((row, i) => row[0] === String(i)), 'every row once, in the query\'s order');
    const last = await server.api('GET', `/api/queries/${id}/results?offset=29990&limit=1000`, { token: tokens.admin });
    assert.equal(last.body.rows.length, 10);
    assert.equal(last.body.next_offset, null);
    const bad = await server.api('GET', `/api/queries/${id}/results?limit=10001`, { token: tokens.admin });
    assert.equal(bad.status, 400, bad.text);

    const csv = await server.fetch(`/api/queries/${id}/results?format=csv`, { token: tokens.admin });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /^text\/csv/);
    const lines = (await csv.text()).split('\n');
    assert.equal(lines.pop(), '', 'the CSV ends with a newline');
    assert.equal(lines.length, 30001);
    assert.equal(lines[0], 'id,kind,amount,dt');
    assert.equal(lines[1], '0,kind-0,0.0,2026-11-01');

    const parquet = await server.fetch(`/api/queries/${id}/results?format=parquet`, { token: tokens.admin });
    assert.equal(parquet.status, 200);
    const bytes = Buffer.from(await parquet.arrayBuffer());
    assert.ok(bytes.length > 8, `${bytes.length} bytes`);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PAR1');
    assert.equal(bytes.subarray(bytes.length - 4).toString('latin1'), 'PAR1');
    // The result object is in the lake, where the status said.
    const object = await server.api('GET', `/api/lake/objects?prefix=_basin/query-results/${id}-`, { token: tokens.admin });
    assert.equal(object.status, 200, object.text);
    assert.match(object.text, new RegExp(`query-results/${id}-[0-9a-f]{32}\\.parquet`));
  });

  test('cancel: a running query stops as cancelled; cancelling it again is 409', async () => {
    const id = await submit('admin', { sql: ENDLESS });
    await waitFor(`query ${id} to run`, async () => (await status('admin', id)).status === 'running', 10000);
    const early = await server.api('GET', `/api/queries/${id}/results`, { token: tokens.admin });
    assert.equal(early.status, 409, `no results while it runs: ${early.text}`);
    await sleep(300);
    const cancel = await server.api('POST', `/api/queries/${id}/cancel`, { token: tokens.admin });
    assert.equal(cancel.status, 202, cancel.text);
    const started = Date.now();
    const record = await finished('admin', id, 15000);
    assert.equal(record.status, 'cancelled', JSON.stringify(record));
    assert.ok(Date.now() - started < 10000, 'stopped promptly');
    assert.ok(record.ended_at);
    assert.equal(record.result_location, undefined, 'a cancelled query has no result');

    const again = await server.api('POST', `/api/queries/${id}/cancel`, { token: tokens.admin });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.code, 'FailedPrecondition');
    assert.match(again.body.error.message, /already ended \(cancelled\)/);
    const results = await server.api('GET', `/api/queries/${id}/results`, { token: tokens.admin });
    assert.equal(results.status, 409, results.text);
    const parquet = await server.api('GET', `/api/queries/${id}/results?format=parquet`, { token: tokens.admin });
    assert.equal(parquet.status, 409, parquet.text);
    const [listed] = (await history('admin', ENDLESS)).filter((q) => q.id === id);
    assert.equal(listed?.status, 'cancelled', 'the history has the cancellation');
    const missing = await server.api('POST', '/api/queries/999999/cancel', { token: tokens.admin });
    assert.equal(missing.status, 404, missing.text);
  });

  test('pruning: a one-day filter reads one partition; explain lists kept and pruned without running', async () => {
    const full = await query('admin', { sql: 'SELECT count(*) AS n, sum(amount) AS total FROM shop.events', cache: false });
    assert.equal(full.status, 200, full.text);
    assert.deepEqual(full.body.rows, [['30000', '112496250.0']]);
    assert.equal(full.body.partitions_scanned, 10);
    assert.equal(full.body.partitions_total, 10);
    assert.ok(full.body.bytes_read > 0);

    const daySql = "SELECT count(*) AS n, sum(amount) AS total FROM shop.events WHERE dt = DATE '2026-11-03'";
    const day = await query('admin', { sql: daySql, cache: false });
    assert.equal(day.status, 200, day.text);
    assert.equal(day.body.rows[0][0], '3000');
    assert.equal(day.body.partitions_scanned, 1);
    assert.equal(day.body.partitions_total, 10);
    // Not exactly 1: DuckDB reads one Parquet footer (the newest partition's) to bind the scan
    // (see 'pruning: a one-day query opens its partition and at most one footer for binding').
    assert.ok(day.body.objects_scanned >= 1 && day.body.objects_scanned <= 2, `objects_scanned ${day.body.objects_scanned}`);
    assert.ok(day.body.bytes_read > 0, `bytes_read ${day.body.bytes_read}`);
    assert.ok(day.body.bytes_read < full.body.bytes_read, `one day ${day.body.bytes_read} < all ${full.body.bytes_read}`);
    assert.equal(day.body.cache_hit, false);
    const [scan] = day.body.scans;
    assert.equal(scan.table, 'shop.events');
    assert.deepEqual(scan.partitions_kept, ['dt=2026-11-03']);
    assert.deepEqual([...scan.partitions_pruned].sort(), DAYS.filter((d) => d !== 'dt=2026-11-03'));
    assert.equal(scan.objects_kept, 1);
    assert.equal(scan.objects_total, 10);
    assert.ok(scan.bytes_kept > 0);

    const before = (await history('admin', 'BETWEEN')).length;
    const rangeSql = "SELECT count(*) FROM shop.events WHERE dt BETWEEN DATE '2026-11-02' AND DATE '2026-11-04'";
    const plan = await query('admin', { sql: rangeSql, explain: true });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.body.partitions_scanned, 3);
    assert.equal(plan.body.partitions_total, 10);
    assert.deepEqual([...plan.body.scans[0].partitions_kept].sort(), ['dt=2026-11-02', 'dt=2026-11-03', 'dt=2026-11-04']);
    assert.equal(plan.body.scans[0].partitions_pruned.length, 7);
    assert.equal(plan.body.scans[0].objects_kept, 3);
    assert.equal(plan.body.rows, undefined, 'explain runs nothing');
    assert.equal(plan.body.bytes_read, undefined);
    assert.equal((await history('admin', 'BETWEEN')).length, before, 'a plan is not a query in the history');
    const refused = await query('vic', { sql: "COPY (SELECT 1) TO 'lake://x.csv'", explain: true });
    assert.equal(refused.status, 403, refused.text);

    const explained = await query('admin', { sql: `EXPLAIN ${daySql}` });
    assert.equal(explained.status, 200, explained.text);
    const lastRow = explained.body.rows.at(-1);
    assert.equal(lastRow[0], 'basin scan of shop.events');
    assert.match(lastRow[1], /^1 of 10 partitions kept, 9 pruned\nkept: dt=2026-11-03\npruned: dt=2026-11-01, dt=2026-11-02, dt=2026-11-04, /);
    assert.match(lastRow[1], /\nobjects: 1 of 10 \(\d+ bytes\)$/);
    assert.equal(explained.body.bytes_read, 0, 'EXPLAIN reads no data');
  });

  test('result cache: a repeat hits until an object lands in a partition it reads; cache:false never hits', async () => {
    const sqlFor = (day) => `SELECT count(*) AS n, max(id) AS top FROM shop.clicks WHERE dt = DATE '2026-11-0${day}'`;
    const first = await query('admin', { sql: sqlFor(1) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.cache_hit, false);
    assert.ok(first.body.bytes_read > 0);
    assert.deepEqual(first.body.rows, [['1000', '2997']]);
    const second = await query('admin', { sql: sqlFor(1) });
    assert.equal(second.body.cache_hit, true);
    assert.equal(second.body.bytes_read, 0);
    assert.deepEqual(second.body.rows, first.body.rows);
    assert.deepEqual(second.body.columns, first.body.columns);
    assert.equal(second.body.partitions_scanned, 1, 'a hit still says what the answer covers');
    const [hitRecord] = (await history('admin', sqlFor(1))).filter((q) => q.id === second.body.id);
    assert.equal(hitRecord?.cache_hit, true, 'the history records the hit');

    const other = await query('admin', { sql: sqlFor(2) });
    assert.equal(other.body.cache_hit, false);
    assert.equal((await query('admin', { sql: sqlFor(2) })).body.cache_hit, true);

    const uncached = await query('admin', { sql: sqlFor(1), cache: false });
    assert.equal(uncached.status, 200, uncached.text);
    assert.equal(uncached.body.cache_hit, false);
    assert.ok(uncached.body.bytes_read > 0);
    assert.equal((await query('admin', { sql: sqlFor(1), cache: false })).body.cache_hit, false);
    const badFlag = await query('admin', { sql: sqlFor(1), cache: 'no' });
    assert.equal(badFlag.status, 400, badFlag.text);

    // A new object in day 1's partition folder, next to the one CTAS wrote.
    const partitions = await home.json(['catalog', 'partitions', 'shop.clicks']);
    const day1 = partitions.find((p) => p.values[0] === '2026-11-01');
    assert.match(day1.location, /^lake:\/\/warehouse\/shop\/clicks\/dt=2026-11-01\/w-[^/]+\/$/);
    await home.ok(['query', "COPY (SELECT CAST(5000 + i AS BIGINT) AS id, 'late' AS page FROM range(5) t(i)) " +
      `TO '${day1.location}late.parquet' (FORMAT parquet)`]);

    const changed = await query('admin', { sql: sqlFor(1) });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.cache_hit, false, 'the partition read has a new object');
    assert.ok(changed.body.bytes_read > 0);
    assert.deepEqual(changed.body.rows, [['1005', '5004']]);
    // Both of day 1's objects, plus at most the footer DuckDB reads to bind the Parquet scan.
    assert.ok(changed.body.objects_scanned >= 2 && changed.body.objects_scanned <= 3, changed.text);
    const untouched = await query('admin', { sql: sqlFor(2) });
    assert.equal(untouched.body.cache_hit, true, 'another partition is unchanged');
    assert.deepEqual(untouched.body.rows, other.body.rows);
    assert.equal((await query('admin', { sql: sqlFor(1) })).body.cache_hit, true, 'the new answer is cached');
  });

  test('per-request database: unqualified names resolve in it; without it they are not found', async () => {
    const sql = "SELECT count(*) AS n FROM events WHERE dt = DATE '2026-11-05'";
    const found = await query('admin', { sql, database: 'shop' });
    assert.equal(found.status, 200, found.text);
    assert.deepEqual(found.body.rows, [['3000']]);
    assert.equal(found.body.partitions_scanned, 1);

    const missing = await query('admin', { sql });
    assert.ok(missing.status >= 400 && missing.status < 500, `${missing.status} ${missing.text}`);
    assert.match(missing.body.error.message, /\bevents\b.*does not exist/);
    const elsewhere = await query('admin', { sql, database: 'nowhere' });
    assert.ok(elsewhere.status >= 400 && elsewhere.status < 500, `${elsewhere.status} ${elsewhere.text}`);
    const badType = await query('admin', { sql, database: 7 });
    assert.equal(badType.status, 400, badType.text);

    const id = await submit('admin', { sql, database: 'shop' });
    const record = await finished('admin', id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record));
    assert.equal(record.database, 'shop');
    const page = await server.api('GET', `/api/queries/${id}/results`, { token: tokens.admin });
    assert.deepEqual(page.body.rows, [['3000']]);
  });

  test('workgroup bytes-scanned limit: 429 naming the limit, recorded as failed', async () => {
    const sql = 'SELECT sum(amount) AS capped_total FROM shop.events';
    const stopped = await query('bea', { sql });
    assert.equal(stopped.status, 429, stopped.text);
    assert.equal(stopped.body.error.code, 'ResourceExhausted');
    assert.match(stopped.body.error.message, /bytes-scanned limit \(workgroup 'capped'\)/);
    const small = await query('bea', { sql: 'SELECT 1 AS one' });
    assert.equal(small.status, 200, small.text);
    assert.equal(small.body.workgroup, 'capped');

    const [record] = await history('bea', 'capped_total');
    assert.equal(record?.status, 'failed', JSON.stringify(record));
    assert.equal(record.workgroup, 'capped');
    assert.match(record.error, /bytes-scanned limit \(workgroup 'capped'\)/);

    // The same limit stops an asynchronous query.
    const id = await submit('bea', { sql: 'SELECT sum(amount) AS capped_async FROM shop.events' });
    const async = await finished('bea', id);
    assert.equal(async.status, 'failed', JSON.stringify(async));
    assert.match(async.error, /bytes-scanned limit \(workgroup 'capped'\)/);
  });

  test('workgroup run-time limit: 504 after about 300 ms, recorded as failed', async () => {
    const sql = ENDLESS.replace('AS total', 'AS hasty_total');
    const started = Date.now();
    const stopped = await query('tim', { sql });
    const took = Date.now() - started;
    assert.equal(stopped.status, 504, stopped.text);
    assert.equal(stopped.body.error.code, 'DeadlineExceeded');
    assert.match(stopped.body.error.message, /run-time limit \(workgroup 'hasty'\)/);
    assert.ok(took < 5000, `stopped after ${took} ms`);
    const [record] = await history('tim', 'hasty_total');
    assert.equal(record?.status, 'failed', JSON.stringify(record));
    assert.equal(record.workgroup, 'hasty');
    assert.match(record.error, /run-time limit/);
  });

  test('workgroup memory limit: an out-of-memory query fails alone; others and the server carry on', async () => {
    const greedy = 'SELECT list(i) AS tiny_everything FROM range(50000000) t(i)';
    const [failed, other] = await Promise.all([
      query('mo', { sql: greedy, cache: false }),
      query('vic', { sql: "SELECT count(*) AS n FROM shop.events WHERE dt = DATE '2026-11-07'", cache: false }),
    ]);
    assert.equal(failed.status, 429, failed.text);
    assert.equal(failed.body.error.code, 'ResourceExhausted');
    assert.match(failed.body.error.message, /out of memory/i);
    assert.equal(other.status, 200, other.text);
    assert.deepEqual(other.body.rows, [['3000']]);
    const health = await server.api('GET', '/healthz');
    assert.equal(health.status, 200);
    const [record] = await history('mo', 'tiny_everything');
    assert.equal(record?.status, 'failed', JSON.stringify(record));
    assert.equal(record.workgroup, 'tiny');
    // The workgroup's engine still answers queries that fit.
    const fits = await query('mo', { sql: 'SELECT count(*) AS n FROM range(1000000) t(i)' });
    assert.equal(fits.status, 200, fits.text);
    assert.deepEqual(fits.body.rows, [['1000000']]);
  });

  test('workgroup max_concurrent 1: a second query waits queued while the first runs, then both finish', async () => {
    const first = await submit('sam', { sql: 'SELECT max(i % 7) AS serial_first FROM range(600000000) t(i)' });
    await waitFor(`query ${first} to run`, async () => (await status('sam', first)).status === 'running', 10000, 20);
    const second = await submit('sam', { sql: 'SELECT max(i) AS serial_second FROM range(1000000) t(i)' });
    let sawQueued = false;
    let counts;
    for (let i = 0; i < 200 && !sawQueued; i++) {
      const [a, b] = await Promise.all([status('sam', first), status('sam', second)]);
      if (a.status !== 'running') break;
      if (b.status === 'queued') {
        sawQueued = true;
        counts = (await server.api('GET', '/api/workgroups/serial', { token: tokens.admin })).body.workgroup;
      } else {
        assert.notEqual(b.status, 'running', 'the second query may not run beside the first');
        await sleep(20);
      }
    }
    assert.ok(sawQueued, 'the second query was seen queued while the first ran');
    assert.equal(counts.running, 1);
    assert.equal(counts.queued, 1);
    const a = await finished('sam', first, 30000);
    const b = await finished('sam', second, 30000);
    assert.equal(a.status, 'succeeded', JSON.stringify(a));
    assert.equal(b.status, 'succeeded', JSON.stringify(b));
    assert.equal(a.workgroup, 'serial');
    assert.ok(Date.parse(b.ended_at) >= Date.parse(a.ended_at), 'the second ended after the first');
    const page = await server.api('GET', `/api/queries/${second}/results`, { token: tokens.sam });
    assert.deepEqual(page.body.rows, [['999999']]);
  });

  test('viewers: SELECT works, CTAS is refused, others\' asynchronous queries are not found', async () => {
    const read = await query('vic', { sql: "SELECT count(*) AS n FROM shop.events WHERE dt = DATE '2026-11-02'" });
    assert.equal(read.status, 200, read.text);
    assert.deepEqual(read.body.rows, [['3000']]);

    const ctas = "CREATE TABLE shop.viewer_copy WITH (format = 'parquet') AS SELECT * FROM shop.events";
    const refused = await query('vic', { sql: ctas });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.error.code, 'PermissionDenied');
    const id = await submit('vic', { sql: ctas.replace('viewer_copy', 'viewer_copy2') });
    const record = await finished('vic', id);
    assert.equal(record.status, 'refused', JSON.stringify(record));
    const tables = await server.api('GET', '/api/catalog/databases/shop/tables', { token: tokens.admin });
    assert.equal(tables.status, 200, tables.text);
    assert.ok(!tables.text.includes('viewer_copy'), 'no table was created');

    const own = await submit('vic', { sql: 'SELECT 1 AS mine' });
    assert.equal((await finished('vic', own)).status, 'succeeded');
    const adminId = await submit('admin', { sql: 'SELECT 2 AS theirs' });
    await finished('admin', adminId);
    for (const [method, route] of [
      ['GET', `/api/queries/${adminId}`],
      ['GET', `/api/queries/${adminId}/results`],
      ['GET', `/api/queries/${adminId}/results?format=csv`],
      ['GET', `/api/queries/${adminId}/results?format=parquet`],
      ['POST', `/api/queries/${adminId}/cancel`],
    ]) {
      const response = await server.api(method, route, { token: tokens.vic });
      assert.equal(response.status, 404, `${method} ${route}: ${response.text}`);
      assert.equal(response.body.error.code, 'NotFound');
    }
    // Admins see anyone's.
    const theirs = await server.api('GET', `/api/queries/${own}`, { token: tokens.admin });
    assert.equal(theirs.status, 200, theirs.text);
    assert.equal(theirs.body.user, 'vic');
  });

  test('synchronous CSV streams every row with a header; errors before the first row are JSON', async () => {
    const response = await server.fetch('/api/query', {
      method: 'POST',
      token: tokens.vic,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT i FROM range(300000) t(i)', format: 'csv' }),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/csv/);
    const lines = (await response.text()).split('\n');
    assert.equal(lines.pop(), '');
    assert.equal(lines.length, 300001);
    assert.equal(lines[0], 'i');
    assert.equal(lines[1], '0');
    assert.equal(lines[300000], '299999');

    const broken = await query('vic', { sql: 'SELEC 1', format: 'csv' });
    assert.equal(broken.status, 400, broken.text);
    assert.equal(broken.body.error.code, 'InvalidArgument');
    const format = await query('vic', { sql: 'SELECT 1', format: 'xml' });
    assert.equal(format.status, 400, format.text);
  });
  // Regression tests for bugs found by this suite.

  test('asynchronous SELECT: the status names the result columns', async () => {
    const id = await submit('admin', { sql: 'SELECT 7 AS n, \'x\' AS label' });
    const record = await finished('admin', id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record));
    assert.deepEqual(record.columns, [{ name: 'n', type: 'INTEGER' }, { name: 'label', type: 'VARCHAR' }]);
  });

  test('asynchronous SELECT: results keep the query\'s types and values (HUGEINT sums)', async () => {
    const sql = 'SELECT sum(i) AS total, sum(i) * 1000000000000 AS big FROM range(10) t(i)';
    const sync = await query('admin', { sql, cache: false });
    assert.equal(sync.status, 200, sync.text);
    const id = await submit('admin', { sql });
    assert.equal((await finished('admin', id)).status, 'succeeded');
    const page = await server.api('GET', `/api/queries/${id}/results`, { token: tokens.admin });
    assert.equal(page.status, 200, page.text);
    assert.deepEqual(page.body.rows, sync.body.rows, 'every digit kept');
    // Parquet has no 128-bit integers: HUGEINT columns are stored as DECIMAL(38,0).
    assert.deepEqual(page.body.columns, sync.body.columns.map((c) => ({ ...c, type: c.type === 'HUGEINT' ? 'DECIMAL(38,0)' : c.type })));
  });

  // DuckDB reads one Parquet footer to bind a scan (the newest partition's): at most one extra object.
  test('pruning: a one-day query opens its partition and at most one footer for binding', async () => {
    const day = await query('admin', { sql: "SELECT sum(amount) AS pruned_cost FROM shop.events WHERE dt = DATE '2026-11-06'", cache: false });
    assert.equal(day.status, 200, day.text);
    assert.deepEqual(day.body.scans[0].partitions_kept, ['dt=2026-11-06']);
    assert.ok(day.body.objects_scanned <= 2, day.text);
    const newest = await query('admin', { sql: "SELECT sum(amount) FROM shop.events WHERE dt = DATE '2026-11-10'", cache: false });
    assert.equal(newest.body.objects_scanned, 1, 'the newest partition binds the scan: nothing extra');
  });

  test('result cache: count(*) over the first partition is not served stale after that partition is overwritten', async () => {
    const sql = "SELECT count(*) AS n FROM shop.visits WHERE dt = DATE '2026-11-01'";
    const first = await query('admin', { sql });
    assert.deepEqual(first.body.rows, [['100']]);
    assert.equal((await query('admin', { sql })).body.cache_hit, true);
    await home.ok(['query', 'INSERT OVERWRITE shop.visits SELECT id, dt FROM shop.visits ' +
      "WHERE dt = DATE '2026-11-01' AND id < 30"]);
    const after = await query('admin', { sql });
    assert.deepEqual(after.body.rows, [['10']], `stale answer (cache_hit ${after.body.cache_hit})`);
    assert.equal(after.body.cache_hit, false);
    assert.equal(after.body.partitions_scanned, 1);
    const plan = await query('admin', { sql, explain: true });
    assert.deepEqual(plan.body.scans[0].partitions_kept, ['dt=2026-11-01']);
  });
});
