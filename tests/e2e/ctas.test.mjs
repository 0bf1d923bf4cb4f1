// End-to-end tests of writing query results into the lake through `basin query`:
// CREATE TABLE ... AS (partitioned and not), INSERT OVERWRITE of one day, failures that
// leave nothing behind, and the same on an S3 lake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';

import { NO_S3_REASON, createHome, s3Env, s3TestServer, uniqueId } from './lib/basin.mjs';

// 30 orders over three days, ten a day: dt = 2026-11-24 + id % 3.
const ORDERS = "SELECT range AS id, 'k' || (range % 5) AS keyword, range * 0.5 AS amount, " +
  "DATE '2026-11-24' + CAST(range % 3 AS INTEGER) AS dt FROM range(30)";

/** Every file below `dir`, relative to it, sorted. */
function filesBelow(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}

async function count(home, sql) {
  const rows = await home.json(['query', sql]);
  return Number(Object.values(rows[0])[0]);
}

// The same story on any lake; returns a function that gives the home.
function writesIntoTheLake(label, makeHome) {
  let home;
  before(async () => { home = await makeHome(); });
  after(() => home?.cleanup());

  test(`${label}: CREATE TABLE ... AS writes Parquet and registers the table and its partitions`, async () => {
    const created = await home.json(['query',
      `CREATE TABLE shop.orders WITH (format = 'parquet', partitioned_by = ARRAY['dt']) AS ${ORDERS}`]);
    assert.equal(created.table, 'shop.orders');
    assert.equal(created.created, true);
    assert.equal(created.partitions_written, 3);
    assert.equal(created.rows, 30);
    assert.equal(created.objects, 3);
    assert.equal(created.location, 'lake://warehouse/shop/orders/');

    const table = await home.json(['catalog', 'describe', 'shop.orders']);
    assert.equal(table.format, 'parquet');
    assert.deepEqual(table.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.deepEqual(table.columns.map((c) => c.name), ['id', 'keyword', 'amount']);
    assert.equal(await count(home, 'SELECT count(*) FROM shop.orders'), 30);
    assert.equal(await count(home, "SELECT count(*) FROM shop.orders WHERE dt = DATE '2026-11-25'"), 10);

    const text = await home.ok(['query', 'CREATE TABLE shop.totals AS SELECT keyword, sum(amount) AS total FROM shop.orders GROUP BY 1']);
    assert.match(text.stdout, /^created shop\.totals: 5 row\(s\) in 1 object\(s\) \(.*\) at lake:\/\/warehouse\/shop\/totals\/w-\d{8}T\d{6}Z-[0-9a-f]{6}\/\n$/);
    assert.equal(await count(home, 'SELECT sum(total) FROM shop.totals'), 217.5);
  });

  test(`${label}: INSERT OVERWRITE replaces exactly the day it produces, the same on a re-run`, async () => {
    const locations = (table) => Object.fromEntries(table.partitions_sample.map((p) => [p.values[0], p.location]));
    const before = locations(await home.json(['catalog', 'describe', 'shop.orders']));
    // Day 25 again with five of its ten orders (ids 1, 4, 7, 10, 13, renumbered).
    const day = `INSERT OVERWRITE TABLE shop.orders SELECT id + 1000 AS id, keyword, amount, dt FROM (${ORDERS}) ` +
      "WHERE dt = DATE '2026-11-25' AND id < 15";
    for (let run = 0; run < 2; run++) {
      const result = await home.json(['query', day]);
      assert.equal(result.created, false);
      assert.equal(result.partitions_written, 1);
      assert.equal(result.partitions_replaced, 1);
      assert.equal(result.rows, 5);
      assert.equal(await count(home, 'SELECT count(*) FROM shop.orders'), 25, `run ${run}`);
      assert.equal(await count(home, "SELECT min(id) FROM shop.orders WHERE dt = DATE '2026-11-25'"), 1001);
    }
    const after = locations(await home.json(['catalog', 'describe', 'shop.orders']));
    assert.equal(after['2026-11-24'], before['2026-11-24'], 'other days untouched');
    assert.equal(after['2026-11-26'], before['2026-11-26']);
    assert.notEqual(after['2026-11-25'], before['2026-11-25']);

    // A query may read the table it overwrites: day 25 from day 24's rows.
    const copied = await home.ok(['query', "INSERT OVERWRITE shop.orders SELECT id, keyword, amount, DATE '2026-11-25' AS dt " +
      "FROM shop.orders WHERE dt = DATE '2026-11-24'"]);
    assert.match(copied.stdout, /^overwrote shop\.orders: 1 partition\(s\) written \(1 replaced\), 10 row\(s\)/);
    assert.equal(await count(home, 'SELECT count(*) FROM shop.orders'), 30);
    await home.ok(['query', `INSERT OVERWRITE shop.orders ${ORDERS}`]);
    assert.equal(await count(home, 'SELECT sum(id) FROM shop.orders'), 435);
  });

  test(`${label}: failures and mistakes exit 1 with one line and change nothing`, async () => {
    const before = await home.json(['catalog', 'describe', 'shop.orders']);
    for (const [sql, message] of [
      ['INSERT OVERWRITE shop.orders SELECT CAST(\'x\' || id AS INT) AS id, keyword, amount, dt FROM shop.orders', /Could not convert/],
      ["CREATE TABLE shop.t WITH (partitioned_by = ARRAY['day']) AS SELECT 1 AS x", /partition column 'day' is not a column of the query/],
      ['INSERT OVERWRITE shop.orders SELECT id, dt FROM shop.orders', /has column 'keyword', which the query does not produce/],
      ['CREATE TABLE shop.orders AS SELECT 1 AS x', /already exists/],
      ["CREATE TABLE shop.t WITH (format = 'csv') AS SELECT 1 AS x", /format 'csv' is not supported/],
      ['INSERT OVERWRITE shop.nothing SELECT 1 AS x', /no such table: shop\.nothing/],
    ]) {
      const result = await home.run(['query', sql]);
      assert.equal(result.code, 1, sql);
      assert.match(result.stderr, /^basin: .*\(hint: .*\)\n$/s, sql);
      assert.match(result.stderr, message, sql);
    }
    const after = await home.json(['catalog', 'describe', 'shop.orders']);
    assert.deepEqual(after.partitions_sample, before.partitions_sample);
    assert.equal(await count(home, 'SELECT count(*) FROM shop.orders'), 30);
    const skipped = await home.json(['query', 'CREATE TABLE IF NOT EXISTS shop.orders AS SELECT 1 AS x']);
    assert.equal(skipped.skipped, true);
  });
  return () => home;
}

describe('writing query results into a local lake', () => {
  const home = writesIntoTheLake('local', () => createHome({ label: 'basin-ctas-' }));

  test('no files are left beside the registered ones', () => {
    const lake = path.join(home().home, 'lake', 'warehouse', 'shop', 'orders');
    const files = filesBelow(lake);
    assert.equal(files.length, 3, files.join('\n'));
    for (const file of files) assert.match(file, /^dt=2026-11-2[456]\/w-\d{8}T\d{6}Z-[0-9a-f]{6}\/part-0\.parquet$/);
  });

  test('the write is in the query history', async () => {
    const history = await home().json(['history', '--search', 'INSERT OVERWRITE']);
    assert.ok(history.some((q) => q.status === 'succeeded'));
    assert.ok(history.some((q) => q.status === 'failed'));
  });
});

describe('writing query results into an S3 lake', { skip: !s3TestServer() && NO_S3_REASON }, () => {
  writesIntoTheLake('s3', () => createHome({
    label: 'basin-ctas-s3-',
    lake: `s3://${s3TestServer().bucket}/${uniqueId('ctas-')}`,
    env: s3Env(),
  }));
});
