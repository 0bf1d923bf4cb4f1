// End-to-end tests of crawlers: lake folders become catalog tables with partitions through
// `basin crawler` and `basin catalog`, incremental re-crawls and schema changes, bad input
// reported file by file, S3 targets, the HTTP API with its roles, progress and cancellation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  BASIN_BIN, NO_S3_REASON, childEnv, createHome, describeRun, login, s3Env, s3TestServer, sleep,
  startServer, uniqueId,
} from './lib/basin.mjs';

// A 3-row Parquet file (user_id BIGINT, kind VARCHAR, keyword VARCHAR with Korean text,
// event_time TIMESTAMP) written by DuckDB 1.4.4: there is no DuckDB CLI to make one here.
const EVENTS_PARQUET = Buffer.from(
  'UEFSMRUAFTwVPCwVBhUAFQYVBgAAAgAAAAYBAQAAAAAAAAACAAAAAAAAAAMAAAAAAAAAFQAVQBVALBUGFQAVBhUGAAACAAAABgEFAAAAY2xp' +
  'Y2sEAAAAdmlldwUAAABjbGljaxUAFUIVQiwVBhUAFQYVBgAAAgAAAAYBBgAAAOyLoOuwnAYAAADqsIDrsKkDAAAAaGF0FQAVPBU8LBUGFQAV' +
  'BhUGAAACAAAABgEApGzvAWEGAAAaSjEDYQYAAOyTnANhBgAVAhlcNQAYDWR1Y2tkYl9zY2hlbWEVCAAVBCUCGAd1c2VyX2lkJSQAFQwlAhgE' +
  'a2luZCUAABUMJQIYB2tleXdvcmQlAAAVBCUCGApldmVudF90aW1lJRRMjBIcLAAAAAAAFgYZHBlMJgAcFQQZFQAZGAd1c2VyX2lkFQAWBhZe' +
  'Fl4mCDwYCAMAAAAAAAAAGAgBAAAAAAAAABYAKAgDAAAAAAAAABgIAQAAAAAAAAAREQAAACYAHBUMGRUAGRgEa2luZBUAFgYWYhZiJmY8GAR2' +
  'aWV3GAVjbGljaxYAKAR2aWV3GAVjbGljaxERAAAAJgAcFQwZFQAZGAdrZXl3b3JkFQAWBhZkFmQmyAE8GAbsi6DrsJwYA2hhdBYAKAbsi6Dr' +
  'sJwYA2hhdBERAAAAJgAcFQQZFQAZGApldmVudF90aW1lFQAWBhZeFl4mrAI8GAgA7JOcA2EGABgIAKRs7wFhBgAWACgIAOyTnANhBgAYCACk' +
  'bO8BYQYAEREAAAAWggMWBiYIFoIDACgoRHVja0RCIHZlcnNpb24gdjEuNC40IChidWlsZCA2ZGRhYzgwMmZmKQCzAQAAUEFSMQ==',
  'base64');

const BOM = '\uFEFF';

/** Writes `files` ({relative path: string or Buffer}) under `root`, making folders. */
function writeTree(root, files) {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** The lines of newline-delimited JSON for `records`. */
const ndjson = (records) => records.map((record) => JSON.stringify(record)).join('\n') + '\n';

/** Runs basin with --json; parses stdout whatever the exit code (a report comes with exit 1 too). */
async function runJson(home, args, options) {
  const full = ['--json', ...args];
  const result = await home.run(full, options);
  let parsed;
  try {
    parsed = JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not JSON: ${error.message}\n${describeRun(full, result)}`);
  }
  return { ...result, json: parsed };
}

/** The report's error for the file whose path ends with `suffix`, or undefined. */
const errorFor = (report, suffix) => report.errors.find((error) => error.path.endsWith(suffix));

const columnList = (table) => table.columns.map((column) => `${column.name}:${column.type}`);

describe('crawler on a local lake (CLI)', () => {
  let home;
  before(async () => {
    home = await createHome({ label: 'basin-crawler-cli-' });
    const source = path.join(home.root, 'source');
    writeTree(source, {
      // Korean text, a quoted comma; the second file starts with a UTF-8 BOM.
      'orders/dt=2026-11-24/part-0.csv': 'order_id,keyword,amount\n1,신발,3.5\n2,"bag, red",4\n',
      'orders/dt=2026-11-25/part-0.csv': `${BOM}order_id,keyword,amount\n3,모자,1.25\n`,
      'orders/_SUCCESS': '',
      'refunds/dt=2026-11-24/r.json': ndjson([
        { refund_id: 9, reason: '늦은 배송', items: [1, 2], customer: { id: 7, tier: 'gold' } },
        { refund_id: 10, reason: 'size', items: [], customer: { id: 8, tier: 'new' } },
      ]),
      'events/2026/11/24/part-0.parquet': EVENTS_PARQUET,
    });
    await home.ok(['cp', '-r', source, 'lake://raw/']);
  });
  after(() => home?.cleanup());

  test('create and run: exit 0, the report names the tables and explains its decisions', async () => {
    const created = await home.ok(['crawler', 'create', 'raw', '--target', 'lake://raw/', '--database', 'shop']);
    assert.match(created.stdout, /created crawler raw/);
    const listed = await home.json(['crawler', 'list']);
    assert.equal(listed.length, 1);
    assert.deepEqual(listed[0], {
      name: 'raw', targets: ['lake://raw/'], database: 'shop', exclude: [], table_prefix: '',
      grouping: 'auto', schema_change: 'update', deletion: 'deprecate', recrawl: 'changed-objects',
    });

    const run = await home.run(['crawler', 'run', 'raw']);
    assert.equal(run.code, 0, describeRun(['crawler', 'run', 'raw'], run));
    const text = run.stdout;
    assert.match(text, /^crawler raw: completed in \d+ ms$/m);
    assert.match(text, /objects: 5 listed, 4 read, 0 unchanged, 1 skipped \(_SUCCESS marker\)/);
    assert.match(text, /^ {2}tables created: +events, orders, refunds$/m);
    assert.match(text, /partitions: 4 added, 0 removed/);
    assert.match(text, /decision: .*became separate tables: formats differ/);
    assert.match(text, /decision: 2 folder\(s\) under orders\/ such as 'dt=2026-11-24\/' are partitions of table orders/);
    assert.match(text, /decision: 1 folder\(s\) under events\/ such as '2026\/' are partitions of table events/);
    assert.doesNotMatch(text, /error:/);
  });

  test('the stored run report (crawler show --json) has the documented shape', async () => {
    const shown = await home.json(['crawler', 'show', 'raw']);
    assert.equal(shown.name, 'raw');
    assert.equal(shown.recent_runs.length, 1);
    const report = shown.recent_runs[0];
    assert.deepEqual(Object.keys(report).sort(), ['crawler', 'decisions', 'duration_ms', 'errors', 'failure', 'objects',
      'partitions', 'schema_changes', 'started_at', 'started_at_unix', 'status', 'tables'].sort());
    assert.equal(report.crawler, 'raw');
    assert.equal(report.status, 'completed');
    assert.equal(report.failure, '');
    assert.match(report.started_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(report.started_at_unix - Date.now() / 1000) < 600, 'started_at_unix is now');
    assert.ok(Number.isInteger(report.duration_ms) && report.duration_ms >= 0);
    assert.deepEqual(report.objects, { listed: 5, read: 4, unchanged: 0, skipped: { '_SUCCESS marker': 1 } });
    assert.deepEqual(report.tables, { created: ['events', 'orders', 'refunds'], updated: [], unchanged: [],
      deprecated: [], removed: [] });
    assert.deepEqual(report.partitions, { added: 4, removed: 0 });
    assert.deepEqual(report.schema_changes, []);
    assert.deepEqual(report.errors, []);
    assert.ok(report.decisions.length >= 3 && report.decisions.every((d) => typeof d === 'string'));
  });

  test('describe --json: columns, partition key dt DATE, statistics, schema history; the data reads back', async () => {
    const orders = await home.json(['catalog', 'describe', 'shop.orders']);
    assert.equal(orders.location, 'lake://raw/orders/');
    assert.equal(orders.format, 'csv');
    assert.equal(orders.format_options.header, 'true');
    assert.equal(orders.format_options.delimiter, ',');
    assert.equal(orders.created_by, 'crawler:raw');
    assert.equal(orders.status, 'active');
    assert.deepEqual(columnList(orders), ['order_id:BIGINT', 'keyword:VARCHAR', 'amount:DOUBLE'],
      'the BOM of the second file is not part of a column name');
    assert.deepEqual(orders.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.equal(orders.partition_count, 2);
    assert.equal(orders.statistics.objects, 2);
    assert.equal(orders.schema_version, 1);
    assert.equal(orders.schema_history.length, 1);
    assert.equal(orders.schema_history[0].version, 1);
    assert.equal(orders.schema_history[0].changed_by, 'crawler:raw');
    assert.equal(orders.schema_history[0].change, '+ added order_id BIGINT\n+ added keyword VARCHAR\n+ added amount DOUBLE\n');
    assert.deepEqual(orders.partitions_sample.map((p) => p.values), [['2026-11-24'], ['2026-11-25']]);

    const text = await home.ok(['catalog', 'describe', 'shop.orders']);
    assert.match(text.stdout, /partition keys:\n {4}dt {2}DATE\n/);
    assert.match(text.stdout, /schema version 1/);

    const refunds = await home.json(['catalog', 'describe', 'shop.refunds']);
    assert.equal(refunds.format, 'json');
    assert.deepEqual(columnList(refunds),
      ['refund_id:BIGINT', 'reason:VARCHAR', 'items:BIGINT[]', 'customer:STRUCT(id BIGINT, tier VARCHAR)']);

    const events = await home.json(['catalog', 'describe', 'shop.events']);
    assert.equal(events.format, 'parquet');
    assert.equal(events.statistics.rows, 3);
    assert.deepEqual(events.partition_keys.map((k) => `${k.name}:${k.type}`),
      ['partition_0:BIGINT', 'partition_1:BIGINT', 'partition_2:BIGINT']);
    assert.deepEqual(columnList(events),
      ['user_id:BIGINT', 'kind:VARCHAR', 'keyword:VARCHAR', 'event_time:TIMESTAMP']);

    const filtered = await home.json(['catalog', 'partitions', 'shop.orders', '--filter', 'dt=2026-11-25']);
    assert.deepEqual(filtered.map((p) => p.location), ['lake://raw/orders/dt=2026-11-25/']);
    assert.deepEqual(await home.json(['catalog', 'tables', 'shop']).then((tables) => tables.map((t) => t.name)),
      ['events', 'orders', 'refunds']);

    // Korean text, the quoted comma and the BOM file read back through the catalog.
    const rows = await home.json(['query', 'SELECT keyword FROM shop.orders ORDER BY order_id']);
    assert.deepEqual(rows.map((row) => row.keyword), ['신발', 'bag, red', '모자']);
    const reasons = await home.json(['query', 'SELECT reason, customer.tier AS tier FROM shop.refunds ORDER BY refund_id']);
    assert.deepEqual(reasons, [{ reason: '늦은 배송', tier: 'gold' }, { reason: 'size', tier: 'new' }]);
  });

  test('a re-run of an unchanged lake reads no object', async () => {
    const run = await runJson(home, ['crawler', 'run', 'raw']);
    assert.equal(run.code, 0, describeRun(['crawler', 'run', 'raw'], run));
    assert.equal(run.json.status, 'completed');
    assert.deepEqual(run.json.objects, { listed: 5, read: 0, unchanged: 4, skipped: { '_SUCCESS marker': 1 } });
    assert.deepEqual(run.json.tables.unchanged, ['events', 'orders', 'refunds']);
    assert.deepEqual(run.json.tables.created, []);
    assert.deepEqual(run.json.tables.updated, []);
    assert.deepEqual(run.json.partitions, { added: 0, removed: 0 });
    assert.equal((await home.json(['catalog', 'describe', 'shop.orders'])).schema_version, 1);
  });

  test('a file with a new column: the re-run reports the schema change and describe shows version 2', async () => {
    const file = path.join(home.root, 'new.csv');
    writeFileSync(file, 'order_id,keyword,amount,coupon\n4,양말,2,WELCOME\n');
    await home.ok(['cp', file, 'lake://raw/orders/dt=2026-11-26/part-0.csv']);
    const run = await home.run(['crawler', 'run', 'raw']);
    assert.equal(run.code, 0, describeRun(['crawler', 'run', 'raw'], run));
    assert.match(run.stdout, /objects: 6 listed, 1 read, 4 unchanged/);
    assert.match(run.stdout, /tables updated: +orders$/m);
    assert.match(run.stdout, /partitions: 1 added, 0 removed/);
    assert.match(run.stdout, /schema of orders \(version 2, updated\):\n {4}\+ added coupon VARCHAR\n/);

    const orders = await home.json(['catalog', 'describe', 'shop.orders']);
    assert.equal(orders.schema_version, 2);
    assert.deepEqual(columnList(orders), ['order_id:BIGINT', 'keyword:VARCHAR', 'amount:DOUBLE', 'coupon:VARCHAR']);
    assert.equal(orders.partition_count, 3);
    assert.deepEqual(orders.schema_history.map((v) => v.version), [1, 2]);
    assert.equal(orders.schema_history[1].change, '+ added coupon VARCHAR\n');
    assert.equal(orders.schema_history[1].changed_by, 'crawler:raw');
    const report = (await home.json(['crawler', 'show', 'raw'])).recent_runs[0];
    assert.deepEqual(report.schema_changes,
      [{ table: 'orders', version: 2, change: '+ added coupon VARCHAR\n', applied: 'updated' }]);
  });

  test('two crawlers of the same target and database run at once: both complete, no change is lost', async () => {
    const source = path.join(home.root, 'both');
    writeTree(source, {
      'visits/dt=2026-11-24/a.csv': 'visit_id,page\n1,/home\n',
      'visits/dt=2026-11-25/a.csv': 'visit_id,page,referrer\n2,/cart,google\n',
    });
    await home.ok(['cp', '-r', source, 'lake://both/']);
    for (const name of ['both_a', 'both_b']) {
      await home.ok(['crawler', 'create', name, '--target', 'lake://both/', '--database', 'both']);
    }
    const runs = await Promise.all(['both_a', 'both_b'].map((name) => runJson(home, ['crawler', 'run', name])));
    for (const run of runs) {
      assert.equal(run.code, 0, describeRun(['crawler', 'run'], run));
      assert.equal(run.json.status, 'completed');
    }
    const visits = await home.json(['catalog', 'describe', 'both.visits']);
    assert.deepEqual(columnList(visits), ['visit_id:BIGINT', 'page:VARCHAR', 'referrer:VARCHAR']);
    assert.equal(visits.partition_count, 2);
    assert.equal(visits.schema_version, 1, 'the second writer found nothing new');
  });
});

describe('crawler and bad input (CLI)', () => {
  let home;
  let report;
  let textRun;
  before(async () => {
    home = await createHome({ label: 'basin-crawler-bad-' });
    const source = path.join(home.root, 'source');
    const goodLines = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => JSON.stringify({ user: from + i, kind: 'click' }));
    writeTree(source, {
      'sales/dt=2026-11-24/good.csv': 'id,name,amount\n1,신발,2.5\n2,"a, b",3\n',
      'sales/dt=2026-11-25/ragged.csv': 'id,name,amount\n1,a,2\n2,b,3,extra\n3,c,4\n4,d\n',
      'sales/dt=2026-11-26/truncated.parquet': 'PAR1xxxx',
      'sales/dt=2026-11-27/data.orc': Buffer.from([0x4f, 0x52, 0x43, 0x01, 0x02, 0x03, 0x04, 0x05]),
      'sales/dt=2026-11-28/empty.csv': '',
      'sales/_SUCCESS': '',
      'logs/good.json': ndjson([{ user: 1, kind: 'view' }]),
      // One broken line in the middle of 100 good ones.
      'logs/broken.json': [...goodLines(1, 50), '{"user": 51, "kind": ', ...goodLines(52, 100)].join('\n') + '\n',
      // Latin-1 é (0xE9) at byte 18, on line 3: not UTF-8.
      'text/latin1.csv': Buffer.concat([Buffer.from('id,name\n1,ok\n2,caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    });
    await home.ok(['cp', '-r', source, 'lake://messy/']);
    await home.ok(['crawler', 'create', 'messy', '--target', 'lake://messy/', '--database', 'messy']);
    const run = await runJson(home, ['crawler', 'run', 'messy']);
    assert.equal(run.code, 0, `exit 0 when the crawl completed, even with bad files\n${describeRun(['crawler', 'run'], run)}`);
    report = run.json;
    textRun = await home.run(['crawler', 'run', 'messy']);
  });
  after(() => home?.cleanup());

  test('the crawl completes and every unreadable file is reported with its path and reason', () => {
    assert.equal(report.status, 'completed');
    const expected = [
      ['sales/dt=2026-11-25/ragged.csv', /ragged CSV/],
      ['sales/dt=2026-11-26/truncated.parquet', /truncated Parquet file/],
      ['sales/dt=2026-11-27/data.orc', /ORC file/],
      ['logs/broken.json', /cannot read as json: .*Malformed JSON.*line \d+/],
      ['text/latin1.csv', /invalid UTF-8/],
      ['sales/dt=2026-11-28/empty.csv', /empty \(0 bytes\)/],
    ];
    for (const [file, reason] of expected) {
      const error = errorFor(report, file);
      assert.ok(error, `${file} is in the report's errors: ${JSON.stringify(report.errors, null, 1)}`);
      assert.equal(error.path, `lake://messy/${file}`);
      assert.match(error.reason, reason, file);
    }
    assert.equal(report.errors.length, expected.length, JSON.stringify(report.errors, null, 1));
    assert.deepEqual(report.objects.skipped, { '_SUCCESS marker': 1, 'empty (0 bytes)': 1 });
    assert.equal(report.objects.listed, 9);
  });

  test('a 0-byte file is reported with its path, like the other bad files', () => {
    // The requirement: a 0-byte file "is reported with its path and reason". The report
    // only counts it under objects.skipped["empty (0 bytes)"].
    assert.ok(JSON.stringify(report).includes('sales/dt=2026-11-28/empty.csv'),
      `the path of the 0-byte file appears in the report: ${JSON.stringify(report, null, 1)}`);
  });

  test('invalid UTF-8 is reported with the file and the byte offset', () => {
    const error = errorFor(report, 'text/latin1.csv');
    assert.ok(error);
    assert.match(error.reason, /invalid UTF-8 at byte offset 18\b/);
  });

  test('the good tables are intact', async () => {
    assert.deepEqual(report.tables.created, ['logs', 'sales']);
    const sales = await home.json(['catalog', 'describe', 'messy.sales']);
    assert.deepEqual(columnList(sales), ['id:BIGINT', 'name:VARCHAR', 'amount:DOUBLE']);
    assert.deepEqual(sales.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.equal(sales.partition_count, 1, 'only the readable file makes a partition');
    assert.equal(sales.statistics.objects, 1);
    const logs = await home.json(['catalog', 'describe', 'messy.logs']);
    assert.deepEqual(columnList(logs), ['user:BIGINT', 'kind:VARCHAR']);
  });

  test('the good tables stay queryable beside the files the crawler refused', async () => {
    // The crawler skipped ragged.csv, truncated.parquet, data.orc and broken.json; a
    // query of the table must not trip over them.
    const sales = await home.run(['--json', 'query', 'SELECT name FROM messy.sales ORDER BY id']);
    assert.equal(sales.code, 0, describeRun(['query', 'messy.sales'], sales));
    assert.deepEqual(JSON.parse(sales.stdout), [{ name: '신발' }, { name: 'a, b' }]);
    const logs = await home.run(['--json', 'query', 'SELECT count(*) AS n FROM messy.logs']);
    assert.equal(logs.code, 0, describeRun(['query', 'messy.logs'], logs));
    assert.deepEqual(JSON.parse(logs.stdout), [{ n: '1' }]);
  });

  test('a re-run reports the same bad files again (text report), exit 0', () => {
    assert.equal(textRun.code, 0, describeRun(['crawler', 'run', 'messy'], textRun));
    assert.match(textRun.stdout, /objects: 9 listed, 0 read, 7 unchanged/);
    for (const file of ['ragged.csv', 'truncated.parquet', 'data.orc', 'broken.json', 'latin1.csv']) {
      assert.match(textRun.stdout, new RegExp(`^ {2}error: lake://messy/\\S*${file.replace('.', '\\.')}: \\S`, 'm'), file);
    }
    assert.match(textRun.stdout, /tables unchanged: logs, sales/);
  });

  test('Korean folder names make distinct tables', async () => {
    const source = path.join(home.root, 'korean');
    writeTree(source, {
      '주문/a.csv': '상품명,가격\n신발,30000\n"가방, 빨강",45000\n',
      '환불/b.csv': '환불번호,사유,금액,메모\n1,늦음,3,x\n',
    });
    await home.ok(['cp', '-r', source, 'lake://kr/']);
    await home.ok(['crawler', 'create', 'kr', '--target', 'lake://kr/', '--database', 'kr']);
    const run = await runJson(home, ['crawler', 'run', 'kr']);
    assert.equal(run.code, 0, describeRun(['crawler', 'run', 'kr'], run));
    const tables = await home.json(['catalog', 'tables', 'kr']);
    const summary = tables.map((t) => `${t.name} ${t.location} ${t.columns.map((c) => c.name).join(',')}`);
    assert.equal(tables.length, 2, `two folders with different data are two tables:\n${summary.join('\n')}\n` +
      JSON.stringify(run.json, null, 1));
    const byLocation = Object.fromEntries(tables.map((t) => [t.location, t.columns.map((c) => c.name)]));
    assert.deepEqual(byLocation['lake://kr/주문/'], ['상품명', '가격']);
    assert.deepEqual(byLocation['lake://kr/환불/'], ['환불번호', '사유', '금액', '메모']);
  });
});

describe('crawler over an S3 target', { skip: !s3TestServer() && NO_S3_REASON }, () => {
  let home;
  let prefix;
  before(async () => {
    home = await createHome({ label: 'basin-crawler-s3-', env: s3Env() });
    prefix = `s3://${s3TestServer().bucket}/${uniqueId('crawl-')}/`;
  });
  after(async () => {
    if (home && prefix) await home.run(['rm', '-r', prefix]);
    home?.cleanup();
  });

  test('files uploaded with cp -r become tables with partitions', async () => {
    const source = path.join(home.root, 'source');
    writeTree(source, {
      'orders/dt=2026-11-24/a.csv': 'order_id,keyword\n1,신발\n2,"bag, red"\n',
      'orders/dt=2026-11-25/a.csv': 'order_id,keyword\n3,모자\n',
      'clicks/c.json': ndjson([{ user: 1, tags: ['a', 'b'] }]),
    });
    await home.ok(['cp', '-r', source, prefix], { timeout: 60000 });
    await home.ok(['crawler', 'create', 'remote', '--target', prefix, '--database', 'remote']);
    const run = await runJson(home, ['crawler', 'run', 'remote'], { timeout: 60000 });
    assert.equal(run.code, 0, describeRun(['crawler', 'run', 'remote'], run));
    assert.deepEqual(run.json.errors, []);
    assert.deepEqual(run.json.tables.created, ['clicks', 'orders']);
    const orders = await home.json(['catalog', 'describe', 'remote.orders']);
    assert.equal(orders.location, `${prefix}orders/`);
    assert.deepEqual(orders.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.equal(orders.partition_count, 2);
    assert.deepEqual(columnList(orders), ['order_id:BIGINT', 'keyword:VARCHAR']);
    const clicks = await home.json(['catalog', 'describe', 'remote.clicks']);
    assert.deepEqual(columnList(clicks), ['user:BIGINT', 'tags:VARCHAR[]']);

    const again = await runJson(home, ['crawler', 'run', 'remote'], { timeout: 60000 });
    assert.equal(again.code, 0, describeRun(['crawler', 'run', 'remote'], again));
    assert.equal(again.json.objects.read, 0, 'S3 objects are recognised as unchanged');
    const rows = await home.json(['query', 'SELECT keyword FROM remote.orders ORDER BY order_id'], { timeout: 60000 });
    assert.deepEqual(rows.map((row) => row.keyword), ['신발', 'bag, red', '모자']);
  });
});

describe('crawlers over the HTTP API', () => {
  let home;
  let server;
  let viewer;
  let editor;
  before(async () => {
    home = await createHome({ label: 'basin-crawler-api-' });
    await home.ok(['user', 'create', 'vera', '--role', 'viewer', '--password', 'viewer-password-1']);
    await home.ok(['user', 'create', 'eddie', '--role', 'editor', '--password', 'editor-password-1']);
    const source = path.join(home.root, 'source');
    writeTree(source, {
      'orders/dt=2026-11-24/a.csv': 'order_id,keyword\n1,신발\n',
      'orders/dt=2026-11-25/a.csv': 'order_id,keyword\n2,모자\n',
      'orders/dt=2026-11-25/b.csv': 'order_id,keyword\n3,양말\n',
    });
    await home.ok(['cp', '-r', source, 'lake://web/']);
    server = await startServer(home);
    viewer = await login(server, 'vera', 'viewer-password-1');
    editor = await login(server, 'eddie', 'editor-password-1');
  });
  after(async () => {
    await server?.stop();
    home?.cleanup();
  });

  test('viewers read the catalog but cannot create or run crawlers; editors can', async () => {
    const empty = await server.api('GET', '/api/catalog/databases', { token: viewer });
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body, { databases: [] });

    const definition = { name: 'web', targets: ['lake://web/'], database: 'web' };
    const denied = await server.api('POST', '/api/crawlers', { token: viewer, json: definition });
    assert.equal(denied.status, 403, denied.text);
    const badPolicy = await server.api('POST', '/api/crawlers', { token: editor, json: { ...definition, grouping: 'weird' } });
    assert.equal(badPolicy.status, 400, badPolicy.text);
    assert.match(badPolicy.body.error.message, /auto, one-table-per-target/);
    const created = await server.api('POST', '/api/crawlers', { token: editor, json: definition });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.recrawl, 'changed-objects');
    assert.equal((await server.api('POST', '/api/crawlers', { token: editor, json: definition })).status, 409);

    const runDenied = await server.api('POST', '/api/crawlers/web/run', { token: viewer, json: {} });
    assert.equal(runDenied.status, 403, runDenied.text);
    const missing = await server.api('POST', '/api/crawlers/nothing/run', { token: editor, json: {} });
    assert.equal(missing.status, 404, missing.text);

    const run = await server.api('POST', '/api/crawlers/web/run', { token: editor, json: {} });
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.crawler, 'web');
    assert.equal(run.body.status, 'completed');
    assert.deepEqual(run.body.objects, { listed: 3, read: 3, unchanged: 0, skipped: {} });
    assert.deepEqual(run.body.tables.created, ['orders']);
    assert.deepEqual(run.body.partitions, { added: 2, removed: 0 });
    assert.deepEqual(run.body.errors, []);

    const databases = await server.api('GET', '/api/catalog/databases', { token: viewer });
    assert.deepEqual(databases.body, { databases: ['web'] });
    const tables = await server.api('GET', '/api/catalog/databases/web/tables', { token: viewer });
    assert.equal(tables.status, 200, tables.text);
    assert.deepEqual(tables.body.tables.map((t) => t.name), ['orders']);
    const table = await server.api('GET', '/api/catalog/databases/web/tables/orders', { token: viewer });
    assert.equal(table.status, 200, table.text);
    assert.equal(table.body.partition_count, 2);
    assert.deepEqual(table.body.partition_keys, [{ name: 'dt', type: 'DATE' }]);
    assert.equal(table.body.schema_history.length, 1);

    const filtered = await server.api('GET', '/api/catalog/databases/web/tables/orders/partitions?dt=2026-11-25', { token: viewer });
    assert.equal(filtered.status, 200, filtered.text);
    assert.deepEqual(filtered.body.partitions.map((p) => [p.location, p.objects]), [['lake://web/orders/dt=2026-11-25/', 2]]);
    const all = await server.api('GET', '/api/catalog/databases/web/tables/orders/partitions', { token: viewer });
    assert.equal(all.body.partitions.length, 2);

    const shown = await server.api('GET', '/api/crawlers/web', { token: viewer });
    assert.equal(shown.status, 200, shown.text);
    assert.equal(shown.body.recent_runs.length, 1);
    assert.equal(shown.body.recent_runs[0].status, 'completed');
    const list = await server.api('GET', '/api/crawlers', { token: viewer });
    assert.deepEqual(list.body.crawlers.map((c) => c.name), ['web']);
    assert.equal((await server.api('DELETE', '/api/crawlers/web', { token: viewer })).status, 403);
    assert.equal((await server.api('DELETE', '/api/crawlers/web', { token: editor })).status, 200);
  });
});

describe('crawler progress and cancellation (CLI)', () => {
  const FOLDERS = 30;
  const FILES_PER_FOLDER = 100;
  const TOTAL = FOLDERS * FILES_PER_FOLDER;
  let home;
  before(async () => {
    home = await createHome({ label: 'basin-crawler-cancel-' });
    // Straight into the local lake folder: `basin cp -r` of thousands of files takes longer.
    for (let day = 1; day <= FOLDERS; day++) {
      const folder = path.join(home.lake, 'many', `dt=2026-01-${String(day).padStart(2, '0')}`);
      mkdirSync(folder, { recursive: true });
      for (let i = 0; i < FILES_PER_FOLDER; i++) writeFileSync(path.join(folder, `p${i}.csv`), `id,kw\n${i},x\n`);
    }
  });
  after(() => home?.cleanup());

  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

  test('on a terminal, progress is shown and Ctrl-C cancels: exit 130, the catalog unchanged',
    { skip: !hasScript && 'needs script(1) for a terminal' }, async () => {
      await home.ok(['crawler', 'create', 'tty', '--target', 'lake://many/', '--database', 'tty']);
      const command = `exec '${BASIN_BIN}' --home '${home.home}' crawler run tty`;
      const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv(), cwd: os.tmpdir(), stdio: 'pipe' });
      let output = '';
      let interruptedAt = null;
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const progress = /crawling tty: (\d+) listed, (\d+)\/(\d+) read/.exec(output);
        if (interruptedAt === null && progress && Number(progress[2]) > 0) {
          interruptedAt = output.length;
          child.stdin.write('\x03');  // Ctrl-C through the terminal
        }
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      const code = await new Promise((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
      clearTimeout(timer);
      assert.ok(interruptedAt !== null, `progress shown on the terminal: ${JSON.stringify(output.slice(0, 500))}`);
      assert.match(output, new RegExp(`crawling tty: ${TOTAL} listed, \\d+/${TOTAL} read`));
      assert.equal(code, 130, `exit 130 after Ctrl-C: ${JSON.stringify(output.slice(-800))}`);
      assert.match(output, /crawler tty: cancelled/);
      assert.match(output, /crawl cancelled; the catalog was not changed/);
      assert.ok(!(await home.json(['catalog', 'databases'])).includes('tty'), 'a cancelled crawl creates no database');
      assert.deepEqual((await home.json(['crawler', 'show', 'tty'])).recent_runs.filter((r) => r.status === 'completed'), []);
    });

  test('SIGINT shortly after the start: exit 130, no table; the next run reads everything', async () => {
    await home.ok(['crawler', 'create', 'sig', '--target', 'lake://many/', '--database', 'sig']);
    const args = ['--home', home.home, 'crawler', 'run', 'sig'];
    const child = spawn(BASIN_BIN, args, { env: childEnv(), cwd: os.tmpdir(), stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    const closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const started = Date.now();
    await sleep(700);
    const finishedEarly = child.exitCode !== null;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    const { code, signal } = await closed;
    clearTimeout(timer);
    assert.ok(!finishedEarly, `the crawl of ${TOTAL} files outlasted 700 ms (it did not): ${stdout}`);
    assert.equal(code, 130, `exit 130 (code ${code}, signal ${signal}) after ${Date.now() - started} ms\n${stdout}\n${stderr}`);
    assert.match(stdout, /crawler sig: cancelled/);
    assert.match(stderr, /crawl cancelled/);
    assert.ok(!(await home.json(['catalog', 'databases'])).includes('sig'), 'a cancelled crawl creates no database');

    const full = await runJson(home, ['crawler', 'run', 'sig'], { timeout: 60000 });
    assert.equal(full.code, 0, describeRun(['crawler', 'run', 'sig'], full));
    assert.equal(full.json.objects.read, TOTAL, 'the cancelled run saved no object state');
    assert.deepEqual(full.json.tables.created, ['many']);
    assert.equal((await home.json(['catalog', 'describe', 'sig.many'])).partition_count, FOLDERS);
  });

  test('a cancelled first crawl leaves no new database behind', async () => {
    await home.ok(['crawler', 'create', 'fresh', '--target', 'lake://many/', '--database', 'fresh_db']);
    const child = spawn(BASIN_BIN, ['--home', home.home, 'crawler', 'run', 'fresh'], { env: childEnv(), cwd: os.tmpdir(), stdio: 'pipe' });
    child.stdout.resume();
    child.stderr.resume();
    const closed = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    await sleep(700);
    child.kill('SIGINT');
    assert.equal(await closed, 130);
    // "the crawl stops and changes nothing" (CrawlOptions::cancel); the CLI says "the
    // catalog was not changed".
    assert.ok(!(await home.json(['catalog', 'databases'])).includes('fresh_db'),
      'the cancelled crawl did not create its database');
  });
});
