// End-to-end tests of basin's edges under hostile or careless clients: half-open
// connections (slowloris), malformed and mistyped request bodies, what 500 answers reveal,
// symlinks in a local lake, and `basin rm` of the whole lake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { createHome, editConfig, sleep, startServer, within } from './lib/basin.mjs';

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
