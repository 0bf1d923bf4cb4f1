// Starts the S3 API server used by the tests: @20minutes/s3rver, which verifies SigV4
// signatures (credentials S3RVER/S3RVER). Usage: node s3rver.mjs DIR [BUCKET...]
// Listens on 127.0.0.1 at a port the OS picks (or S3RVER_PORT, so a test can restart it
// where its clients expect it) and prints one line: {"port": N}.
// S3RVER_VERBOSE=1 logs every request and error to stdout (after the port line).
// Needs NODE_OPTIONS=--openssl-legacy-provider: its continuation tokens use a cipher
// that OpenSSL 3 disables by default.
import S3rver from '@20minutes/s3rver';

const [directory, ...buckets] = process.argv.slice(2);
if (!directory) {
  console.error('usage: node s3rver.mjs DIR [BUCKET...]');
  process.exit(2);
}
const server = new S3rver({
  directory,
  address: '127.0.0.1',
  port: Number(process.env.S3RVER_PORT || 0),
  silent: !process.env.S3RVER_VERBOSE,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
console.log(JSON.stringify({ port }));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, async () => {
    await server.close();
    process.exit(0);
  });
}
