// End-to-end test of the Firehose-compatible API with the official AWS SDK client
// (@aws-sdk/client-firehose) and basin access keys: stream management, PutRecordBatch with
// delivery and a query, per-record failures, limits, errors in AWS shapes, roles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  CreateDeliveryStreamCommand,
  DeleteDeliveryStreamCommand,
  DescribeDeliveryStreamCommand,
  FirehoseClient,
  ListDeliveryStreamsCommand,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';

import { createHome, login, sleep, startServer } from './lib/basin.mjs';

const encoder = new TextEncoder();
const record = (text) => ({ Data: encoder.encode(text) });

describe('Firehose-compatible API (AWS SDK)', () => {
  let home;
  let server;
  let editor; // FirehoseClient with the editor's access key
  let viewer; // FirehoseClient with the viewer's access key
  let vicToken;
  before(async () => {
    home = await createHome({ label: 'basin-firehose-' });
    await home.ok(['user', 'create', 'eve', '--role', 'editor', '--password', 'editor-password']);
    await home.ok(['user', 'create', 'vic', '--role', 'viewer', '--password', 'viewer-password']);
    const eveKey = await home.json(['access-key', 'create', '--user', 'eve']);
    const vicKey = await home.json(['access-key', 'create', '--user', 'vic']);
    server = await startServer(home);
    vicToken = await login(server, 'vic', 'viewer-password');
    const client = (key) => new FirehoseClient({
      endpoint: server.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: key.access_key_id, secretAccessKey: key.secret_access_key },
      maxAttempts: 1,
    });
    editor = client(eveKey);
    viewer = client(vicKey);
  });
  after(async () => {
    editor?.destroy();
    viewer?.destroy();
    await server?.stop();
    home?.cleanup();
  });

  const count = async (sql) => {
    const answer = await server.api('POST', '/api/query', { token: vicToken, json: { sql } });
    assert.equal(answer.status, 200, answer.text);
    return answer.body.rows[0][0];
  };

  test('create, describe, list, delete', async () => {
    const created = await editor.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'Web-Clicks',
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        RoleARN: 'arn:aws:iam::000000000000:role/firehose',
        BucketARN: 'arn:aws:s3:::ignored',
        Prefix: 'firehose/clicks/event=!{partitionKeyFromQuery:type}/',
        ErrorOutputPrefix: 'firehose/errors/clicks/',
        BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 1 },
      },
    }));
    assert.equal(created.DeliveryStreamARN, 'arn:aws:firehose:eu-west-1:000000000000:deliverystream/Web-Clicks');

    const described = await viewer.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'Web-Clicks' }));
    const d = described.DeliveryStreamDescription;
    assert.equal(d.DeliveryStreamName, 'Web-Clicks');
    assert.equal(d.DeliveryStreamARN, created.DeliveryStreamARN);
    assert.equal(d.DeliveryStreamStatus, 'ACTIVE');
    assert.equal(d.DeliveryStreamType, 'DirectPut');
    assert.ok(d.CreateTimestamp instanceof Date);
    assert.equal(d.HasMoreDestinations, false);
    const s3 = d.Destinations[0].ExtendedS3DestinationDescription;
    assert.equal(s3.Prefix, 'lake://firehose/clicks/event=!{partitionKeyFromQuery:type}/');
    assert.equal(s3.ErrorOutputPrefix, 'lake://firehose/errors/clicks/');
    assert.deepEqual(s3.BufferingHints, { SizeInMBs: 1, IntervalInSeconds: 1 });
    // The default destination table: database "streams", the name lower-cased with '_'.
    const native = await server.api('GET', '/api/streams/Web-Clicks', { token: vicToken });
    assert.equal(native.body.database, 'streams');
    assert.equal(native.body.table, 'web_clicks');

    await editor.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'tagged', Tags: [{ Key: 'basin:table', Value: 'app.tagged_events' }],
    }));
    const tagged = await server.api('GET', '/api/streams/tagged', { token: vicToken });
    assert.equal(tagged.body.database, 'app');
    assert.equal(tagged.body.table, 'tagged_events');

    const all = await viewer.send(new ListDeliveryStreamsCommand({}));
    assert.deepEqual(all.DeliveryStreamNames, ['Web-Clicks', 'tagged']);
    assert.equal(all.HasMoreDeliveryStreams, false);
    const page = await viewer.send(new ListDeliveryStreamsCommand({ Limit: 1 }));
    assert.deepEqual(page.DeliveryStreamNames, ['Web-Clicks']);
    assert.equal(page.HasMoreDeliveryStreams, true);
    const next = await viewer.send(new ListDeliveryStreamsCommand({ Limit: 1, ExclusiveStartDeliveryStreamName: 'Web-Clicks' }));
    assert.deepEqual(next.DeliveryStreamNames, ['tagged']);
    assert.equal(next.HasMoreDeliveryStreams, false);

    await assert.rejects(editor.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'tagged' })),
      (error) => error.name === 'ResourceInUseException');
    await editor.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'tagged' }));
    await assert.rejects(viewer.send(new DescribeDeliveryStreamCommand({ DeliveryStreamName: 'tagged' })),
      (error) => error.name === 'ResourceNotFoundException' && error.$metadata.httpStatusCode === 400);
    await assert.rejects(editor.send(new DeleteDeliveryStreamCommand({ DeliveryStreamName: 'tagged' })),
      (error) => error.name === 'ResourceNotFoundException');
  });

  test('PutRecordBatch of 500 records is delivered and queryable; per-record failures', async () => {
    await editor.send(new CreateDeliveryStreamCommand({
      DeliveryStreamName: 'events',
      ExtendedS3DestinationConfiguration: { BufferingHints: { SizeInMBs: 1, IntervalInSeconds: 1 } },
    }));
    const records = [];
    for (let i = 0; i < 500; i++) records.push(record(`${JSON.stringify({ id: i, kind: i % 2 ? 'odd' : 'even' })}\n`));
    const batch = await editor.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: records }));
    assert.equal(batch.FailedPutCount, 0);
    assert.equal(batch.Encrypted, false);
    assert.equal(batch.RequestResponses.length, 500);
    assert.ok(batch.RequestResponses.every((r) => typeof r.RecordId === 'string' && r.RecordId.length > 0));

    const one = await editor.send(new PutRecordCommand({ DeliveryStreamName: 'events', Record: record('{"id": 500, "kind": "even"}') }));
    assert.ok(one.RecordId);

    const mixed = await editor.send(new PutRecordBatchCommand({
      DeliveryStreamName: 'events',
      Records: [
        record('{"id": 501, "kind": "odd"}\n'),
        record(`{"id": 502, "pad": "${'x'.repeat(1000 * 1024)}"}`),
        record('not json\n'),
        record('{"id": 503, "kind": "odd"}'),
      ],
    }));
    assert.equal(mixed.FailedPutCount, 2);
    const codes = mixed.RequestResponses.map((r) => r.ErrorCode);
    assert.deepEqual(codes.map((c) => c !== undefined), [false, true, true, false]);
    assert.equal(codes[1], 'InvalidArgumentException');
    assert.equal(codes[2], 'InvalidArgumentException');
    assert.match(mixed.RequestResponses[2].ErrorMessage, /JSON/);
    assert.ok(mixed.RequestResponses[1].ErrorMessage);
    assert.ok(mixed.RequestResponses[0].RecordId && mixed.RequestResponses[3].RecordId);

    let delivered = 0;
    for (let i = 0; i < 150 && delivered < 503; i++) {
      const described = await server.api('GET', '/api/streams/events', { token: vicToken });
      delivered = described.body.stats.delivered_records;
      if (delivered < 503) await sleep(100);
    }
    assert.equal(delivered, 503);
    assert.equal(await count('SELECT count(*) FROM streams.events'), '503');
    assert.equal(await count("SELECT count(*) FROM streams.events WHERE kind = 'odd'"), '252');
  });

  test('limits, unknown streams and roles answer with AWS errors', async () => {
    const tooMany = Array.from({ length: 501 }, (_, i) => record(`{"id": ${i}}`));
    await assert.rejects(editor.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: tooMany })),
      (error) => error.name === 'InvalidArgumentException' && error.$metadata.httpStatusCode === 400);
    const big = Array.from({ length: 5 }, () => record(`{"pad": "${'y'.repeat(900 * 1024)}"}`));
    await assert.rejects(editor.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: big })),
      (error) => error.name === 'InvalidArgumentException' && /4 MiB/.test(error.message));
    await assert.rejects(editor.send(new PutRecordBatchCommand({ DeliveryStreamName: 'nope', Records: [record('{}')] })),
      (error) => error.name === 'ResourceNotFoundException');
    await assert.rejects(viewer.send(new PutRecordBatchCommand({ DeliveryStreamName: 'events', Records: [record('{}')] })),
      (error) => error.name === 'AccessDeniedException' && error.$metadata.httpStatusCode === 403);
    await assert.rejects(viewer.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: 'by-viewer' })),
      (error) => error.name === 'AccessDeniedException');
    const listed = await viewer.send(new ListDeliveryStreamsCommand({}));
    assert.ok(listed.DeliveryStreamNames.includes('events'), 'viewers may read');

    const unsigned = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'X-Amz-Target': 'Firehose_20150804.ListDeliveryStreams', 'Content-Type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    assert.equal(unsigned.status, 403);
    assert.equal((await unsigned.json()).__type, 'UnrecognizedClientException');
  });
});
