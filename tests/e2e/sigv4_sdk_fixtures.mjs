// Prints, as a JSON array on stdout, requests signed by the official AWS SDK for
// JavaScript v3, for basin's sigv4_sdk_test: basin's Verify() must accept each one and
// basin's Sign() must reproduce its Authorization header.
//
//   node tests/e2e/sigv4_sdk_fixtures.mjs > sigv4_sdk_fixtures.json
//
// Each entry: {name, method, path, query, headers, body, access_key_id, secret,
// session_token, region, service, now}. `path` and `query` are what goes on the request
// line (percent-encoded, query without '?'), `headers` what the SDK sends (authorization
// included), `now` the signing time as an x-amz-date.
//
// Most requests are signed with @smithy/signature-v4 (the signer inside every v3 client)
// at a fixed time; the last two are captured from a real S3Client, whose time is the
// clock's, so their `now` comes from the request.

import { S3Client, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest, HttpResponse } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { Readable } from "node:stream";

const SIGNING_DATE = new Date("2024-05-06T07:08:09Z");
const CREDENTIALS = {
  accessKeyId: "AKIDBASINSDKTEST",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiBASINSDKKEY",
};

// The SDKs' escapeUri (encodeURIComponent plus !'()*): how clients encode path segments
// and query parameters on the wire.
const escapeUri = (text) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const encodePath = (segments) => "/" + segments.map(escapeUri).join("/");

// The query as sent, keeping the object's order (the SDK's HTTP handler sorts, other
// clients need not) and repeating a key for array values.
function wireQuery(query, { sort = false } = {}) {
  const keys = Object.keys(query);
  if (sort) keys.sort();
  const parts = [];
  for (const key of keys) {
    const values = Array.isArray(query[key]) ? query[key] : [query[key]];
    for (const value of values) {
      parts.push(value === null ? escapeUri(key) : `${escapeUri(key)}=${escapeUri(value)}`);
    }
  }
  return parts.join("&");
}

async function signWithSigner({ name, service, region = "us-east-1", method, hostname, path,
                                query = {}, headers = {}, body, sessionToken }) {
  const signer = new SignatureV4({
    credentials: { ...CREDENTIALS, ...(sessionToken ? { sessionToken } : {}) },
    region,
    service,
    sha256: Sha256,
    // As the S3 client configures it: S3 paths are signed as sent.
    uriEscapePath: service !== "s3",
  });
  const request = new HttpRequest({
    method,
    protocol: "https:",
    hostname,
    path,
    query,
    headers: { host: hostname, ...headers },
    body,
  });
  const signed = await signer.sign(request, { signingDate: SIGNING_DATE });
  return fixture({ name, service, region, sessionToken, method, path,
                   query: wireQuery(query), headers: signed.headers, body });
}

function fixture({ name, service, region, sessionToken, method, path, query, headers, body }) {
  return {
    name,
    method,
    path,
    query,
    headers,
    body: body ?? "",
    access_key_id: CREDENTIALS.accessKeyId,
    secret: CREDENTIALS.secretAccessKey,
    session_token: sessionToken ?? "",
    region,
    service,
    now: headers["x-amz-date"],
  };
}

// Requests from a real S3Client, caught by a request handler that answers locally.
async function captureFromS3Client() {
  const captured = [];
  const requestHandler = {
    async handle(request) {
      captured.push(request);
      const xml = request.method === "GET"
        ? '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>'
        : "";
      return { response: new HttpResponse({ statusCode: 200, headers: {},
                                            body: Readable.from([Buffer.from(xml)]) }) };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() { return {}; },
  };
  const sessionToken = "FwoGZXIvYXdzEBASINTOKEN//////////wEaDEXAMPLE+token/==";
  const client = new S3Client({
    region: "eu-central-1",
    endpoint: "http://127.0.0.1:9000",
    forcePathStyle: true,
    credentials: { ...CREDENTIALS, sessionToken },
    requestHandler,
  });
  await client.send(new PutObjectCommand({
    Bucket: "lake", Key: "원본/2024년 5월/데이터 (1).csv", Body: "id,이름\n1,김철수\n",
    ContentType: "text/csv; charset=utf-8",
  }));
  await client.send(new ListObjectsV2Command({
    Bucket: "lake", Prefix: "원본/2024년 5월/", Delimiter: "/", MaxKeys: 50,
  }));
  client.destroy();
  return captured.map((request, i) =>
    fixture({
      name: ["s3client-put-object-korean-key", "s3client-list-objects-v2"][i],
      service: "s3",
      region: "eu-central-1",
      sessionToken,
      method: request.method,
      path: request.path,
      // What the SDK's node-http-handler puts on the wire: keys sorted.
      query: wireQuery(request.query ?? {}, { sort: true }),
      headers: { ...request.headers },
      body: typeof request.body === "string" ? request.body : undefined,
    }));
}

const fixtures = [
  await signWithSigner({
    name: "s3-get-unsorted-encoded-query",
    service: "s3",
    method: "GET",
    hostname: "lake.s3.us-east-1.amazonaws.com",
    path: "/",
    query: {
      prefix: "logs/2024 01/ü+ß",
      "list-type": "2",
      "continuation-token": "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
      "max-keys": "100",
      "encoding-type": "url",
    },
  }),
  await signWithSigner({
    name: "s3-put-with-body",
    service: "s3",
    method: "PUT",
    hostname: "lake.s3.us-east-1.amazonaws.com",
    path: encodePath(["tables", "events", "part-0001.csv"]),
    headers: {
      "content-type": "text/csv",
      "content-length": "27",
      "x-amz-meta-source": "  basin   fixture  ",
      "user-agent": "aws-sdk-js/3 basin-fixture",
      expect: "100-continue",
    },
    body: "id,kind\n1,click\n2,view\n3,x\n",
  }),
  await signWithSigner({
    name: "firehose-post-json",
    service: "firehose",
    method: "POST",
    hostname: "firehose.us-east-1.amazonaws.com",
    path: "/",
    headers: {
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "Firehose_20150804.PutRecord",
    },
    body: JSON.stringify({ DeliveryStreamName: "basin-events",
                           Record: { Data: Buffer.from('{"k":1}\n').toString("base64") } }),
  }),
  await signWithSigner({
    name: "s3-put-korean-path",
    service: "s3",
    method: "PUT",
    hostname: "s3.ap-northeast-2.amazonaws.com",
    region: "ap-northeast-2",
    path: encodePath(["lake", "한국어", "파일 이름 (최종).txt"]),
    query: { "x-id": "PutObject" },
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "안녕하세요, basin!",
  }),
  await signWithSigner({
    name: "s3-head-with-session-token",
    service: "s3",
    method: "HEAD",
    hostname: "lake.s3.us-east-1.amazonaws.com",
    path: encodePath(["dir", "a&b=c;d.parquet"]),
    query: { versionId: "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY" },
    sessionToken: "IQoJb3JpZ2luX2VjEBASIN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==",
  }),
  await signWithSigner({
    name: "s3-put-unsigned-payload",
    service: "s3",
    method: "PUT",
    hostname: "127.0.0.1:9000",
    path: encodePath(["lake", "big", "object.bin"]),
    query: { partNumber: "2", uploadId: "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA" },
    headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    body: "not hashed by the client",
  }),
  await signWithSigner({
    name: "execute-api-get-repeated-query-double-encoded-path",
    service: "execute-api",
    method: "GET",
    hostname: "abc123.execute-api.us-east-1.amazonaws.com",
    path: encodePath(["prod", "items", "a b", "ü"]),
    query: { tag: ["zeta", "alpha"], q: "x y", empty: "" },
    headers: { accept: "application/json" },
  }),
  ...(await captureFromS3Client()),
];

process.stdout.write(JSON.stringify(fixtures, null, 2) + "\n");
