// Shared helpers for basin's end-to-end tests: temp homes, running the basin command,
// and starting `basin serve` on a port the OS picks.
//
// BASIN_BIN names the binary (default: build/release/bin/basin in this checkout).
// S3 tests need scripts/with-test-servers.sh, which exports BASIN_TEST_S3_ENDPOINT,
// BASIN_TEST_S3_BUCKET, BASIN_TEST_S3_ACCESS_KEY and BASIN_TEST_S3_SECRET_KEY.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../../..');
export const BASIN_BIN = process.env.BASIN_BIN || path.join(REPO_ROOT, 'build/release/bin/basin');

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or `fallback` after `ms` ms; the timer never outlives the race. */
export async function within(promise, ms, fallback) {
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(fallback), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns something truthy; fails with `what` after `ms`. */
export async function waitFor(what, probe, ms = 20000, every = 50) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}

/** A short random token for unique names (S3 prefixes, user names). */
export function uniqueId(prefix = '') {
  return `${prefix}${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A fresh temp dir; remove it with removeDir. */
export function tempDir(label = 'basin-e2e-') {
  return mkdtempSync(path.join(os.tmpdir(), label));
}

export function removeDir(dir) {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

// Other people rebuild the binary while tests run: wait a little when it is briefly gone.
async function waitForBinary() {
  for (let i = 0; i < 120 && !existsSync(BASIN_BIN); i++) await sleep(500);
  if (!existsSync(BASIN_BIN)) throw new Error(`basin binary not found at ${BASIN_BIN} (set BASIN_BIN)`);
}

/**
 * The environment for a basin child: this process's, without anything that would make
 * basin pick another home or S3 account than the test means, plus `extra`.
 */
export function childEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('AWS_') || (name.startsWith('BASIN_') && !name.startsWith('BASIN_TEST_'))) continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** The S3 test server, or null when the tests run without scripts/with-test-servers.sh. */
export function s3TestServer() {
  const endpoint = process.env.BASIN_TEST_S3_ENDPOINT;
  if (!endpoint) return null;
  return {
    endpoint,
    bucket: process.env.BASIN_TEST_S3_BUCKET || 'basin-test',
    accessKey: process.env.BASIN_TEST_S3_ACCESS_KEY || 'S3RVER',
    secretKey: process.env.BASIN_TEST_S3_SECRET_KEY || 'S3RVER',
  };
}

/** AWS_* variables that point basin at the S3 test server. */
export function s3Env(overrides = {}) {
  const s3 = s3TestServer();
  if (!s3) throw new Error('no S3 test server: run under scripts/with-test-servers.sh');
  return {
    AWS_ACCESS_KEY_ID: s3.accessKey,
    AWS_SECRET_ACCESS_KEY: s3.secretKey,
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: 'us-east-1',
    ...overrides,
  };
}

export const NO_S3_REASON = 'needs the S3 test server: run under scripts/with-test-servers.sh';

/**
 * Runs basin with `args`. Resolves to {code, signal, stdout, stdoutBytes, stderr}; never
 * rejects on a non-zero exit. Kills the child and rejects after `timeout` ms.
 */
export async function basin(args, { env = {}, input, timeout = 30000, cwd } = {}) {
  await waitForBinary();
  return new Promise((resolve, reject) => {
    const child = spawn(BASIN_BIN, args, { env: childEnv(env), cwd: cwd || os.tmpdir(), stdio: 'pipe' });
    const out = [];
    const err = [];
    child.stdout.on('data', (chunk) => out.push(chunk));
    child.stderr.on('data', (chunk) => err.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`basin ${args.join(' ')} timed out after ${timeout} ms; stderr: ${Buffer.concat(err)}`));
    }, timeout);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** A readable account of a finished command, for assertion messages. */
export function describeRun(args, result) {
  return `basin ${args.join(' ')} -> exit ${result.code}${result.signal ? ` (signal ${result.signal})` : ''}\n` +
    `stdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(0, 2000)}`;
}

/** Runs basin and requires exit 0; returns the result. */
export async function basinOk(args, options) {
  const result = await basin(args, options);
  if (result.code !== 0) throw new Error(describeRun(args, result));
  return result;
}

/** Runs basin with --json (before the subcommand), requires exit 0, returns parsed stdout. */
export async function basinJson(args, options) {
  const full = ['--json', ...args];
  const result = await basinOk(full, options);
  try {
    return JSON.parse(result.stdout);
  } catch (error) {
    throw new Error(`stdout is not JSON: ${error.message}\n${describeRun(full, result)}`);
  }
}

/**
 * Creates a basin home in a fresh temp dir. Returns {root, home, lake, admin:{user,password},
 * run(args, opts), json(args, opts), cleanup()}: run/json pass --home.
 * The global --json flag goes before the subcommand here; the form with --json after the
 * subcommand ("basin init DIR --json") has its own test in cli.test.mjs.
 */
export async function createHome({ lake, env = {}, label = 'basin-home-' } = {}) {
  const root = tempDir(label);
  const dir = path.join(root, 'home');
  const args = ['init', dir, ...(lake ? ['--lake', lake] : [])];
  const created = await basinJson(args, { env });
  const home = {
    root,
    home: created.home,
    lake: created.lake,
    admin: created.admin,
    env,
    run: (more, options = {}) => basin(['--home', created.home, ...more], { env, ...options }),
    ok: (more, options = {}) => basinOk(['--home', created.home, ...more], { env, ...options }),
    json: (more, options = {}) => basinJson(['--home', created.home, ...more], { env, ...options }),
    cleanup: () => removeDir(root),
  };
  return home;
}

/** Replaces or adds settings in the home's basin.yaml (simple line edits). */
export function editConfig(home, edit) {
  const file = path.join(home.home, 'basin.yaml');
  writeFileSync(file, edit(readFileSync(file, 'utf8')));
}

/**
 * Starts `basin --home HOME serve --listen 127.0.0.1:0` and waits for the server_started
 * log line. Returns {port, url, proc, stderr(), logLines(), stop(signal), exited}.
 * Always call stop() (in after/finally): it sends SIGTERM, then SIGKILL after 10 s.
 */
export async function startServer(home, { env = {}, args = [], timeout = 20000 } = {}) {
  await waitForBinary();
  const proc = spawn(BASIN_BIN, ['--home', home.home, 'serve', '--listen', '127.0.0.1:0', ...args], {
    env: childEnv({ ...home.env, ...env }),
    cwd: os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  proc.stdout.on('data', (chunk) => { stdout += chunk; });
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let exitInfo = null;
  exited.then((info) => { exitInfo = info; });

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`basin serve did not start within ${timeout} ms; stderr:\n${stderr}`));
    }, timeout);
    proc.stderr.on('data', (chunk) => {
      stderr += chunk;
      for (const line of stderr.split('\n')) {
        if (!line.includes('server_started')) continue;
        try {
          const event = JSON.parse(line);
          if (event.event === 'server_started' && Number.isInteger(event.port) && event.port > 0) {
            clearTimeout(timer);
            resolve(event.port);
            return;
          }
        } catch {
          // a partial line: wait for the rest
        }
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`basin serve exited (code ${code}, signal ${signal}) before starting; stderr:\n${stderr}`));
    });
  });

  const server = {
    port,
    url: `http://127.0.0.1:${port}`,
    proc,
    exited,
    stderr: () => stderr,
    stdout: () => stdout,
    /** Every stderr line parsed as JSON; throws on a line that is not JSON. */
    logLines: () => stderr.split('\n').filter((line) => line.trim() !== '').map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`stderr line is not JSON: ${line}`);
      }
    }),
    /** Stops the server; resolves to {code, signal}. Safe to call more than once. */
    async stop(signal = 'SIGTERM') {
      if (exitInfo) return exitInfo;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
    /** fetch against the server; `token` adds Authorization: Bearer. */
    fetch(pathAndQuery, { token, headers = {}, ...init } = {}) {
      const all = { ...headers };
      if (token) all.Authorization = `Bearer ${token}`;
      return fetch(server.url + pathAndQuery, { ...init, headers: all });
    },
    /** fetch with a JSON body (when given); resolves to {status, headers, body (parsed or text)}. */
    async api(method, pathAndQuery, { token, json, body, headers = {} } = {}) {
      const all = { ...headers };
      if (json !== undefined) all['Content-Type'] = 'application/json';
      const response = await server.fetch(pathAndQuery, {
        method,
        token,
        headers: all,
        body: json !== undefined ? JSON.stringify(json) : body,
      });
      const text = await response.text();
      let parsed = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed, text };
    },
  };
  return server;
}

/** Logs in over HTTP; returns the session token. */
export async function login(server, username, password) {
  const response = await server.api('POST', '/api/auth/login', { json: { username, password } });
  if (response.status !== 200) {
    throw new Error(`login as ${username} failed: ${response.status} ${response.text}`);
  }
  return response.body.token;
}
