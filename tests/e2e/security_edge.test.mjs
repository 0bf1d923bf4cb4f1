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
  BASIN_BIN, childEnv, createHome, editConfig, removeDir, sleep, startServer, tempDir, within,
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
