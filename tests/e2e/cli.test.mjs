// End-to-end tests of the basin command line: init, ls, cp, cat, rm, user, token,
// access-key, with lake:// keys, local paths and s3:// URLs (S3 test server).
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import {
  NO_S3_REASON, basin, basinJson, createHome, describeRun, removeDir, s3Env, s3TestServer, tempDir, uniqueId,
} from './lib/basin.mjs';

/** Every file under `dir` as {relative path: Buffer}. */
function readTree(dir) {
  const files = {};
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else files[path.relative(dir, full)] = readFileSync(full);
    }
  };
  walk(dir);
  return files;
}

/** Every path under `dir` (files and folders), sorted. */
function listTree(dir) {
  const out = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      out.push(path.relative(dir, full));
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

/** Asserts a failed command: the exit code and one "basin: ... (hint: ...)" line on stderr. */
function assertFailure(args, result, { code = 1, message } = {}) {
  assert.equal(result.code, code, describeRun(args, result));
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `expected one stderr line:\n${result.stderr}`);
  assert.match(lines[0], /^basin: /, describeRun(args, result));
  assert.match(lines[0], /hint:/, describeRun(args, result));
  if (message) assert.match(lines[0], message, describeRun(args, result));
}

describe('basin command line: usage', () => {
  test('--help exits 0 and names every subcommand', async () => {
    const result = await basin(['--help']);
    assert.equal(result.code, 0, describeRun(['--help'], result));
    for (const command of ['init', 'serve', 'ls', 'cp', 'cat', 'rm', 'user', 'token', 'access-key']) {
      assert.match(result.stdout, new RegExp(`^\\s+${command}\\s`, 'm'), `--help lacks ${command}`);
    }
  });

  test('usage errors exit 2 with one "basin: ... (hint: ...)" line: unknown subcommand, missing argument', async () => {
    for (const args of [['frobnicate'], [], ['cat'], ['cp', 'only-one'], ['user', 'create'], ['token', 'create'],
      ['ls', '--no-such-flag']]) {
      const result = await basin(args);
      assertFailure(args, result, { code: 2 });
      assert.equal(result.stdout, '', `usage errors print nothing on stdout: ${args.join(' ')}`);
    }
  });

  test('the hint of a usage error names the subcommand that failed ("basin cat --help")', async () => {
    for (const [args, hint] of [[['cat'], 'basin cat --help'], [['cp', 'only-one'], 'basin cp --help']]) {
      const result = await basin(args);
      assertFailure(args, result, { code: 2 });
      assert.ok(result.stderr.includes(hint), `expected the hint "${hint}" in: ${result.stderr.trim()}`);
    }
  });

  test('a command without a home exits 1 and says how to make one', async () => {
    const dir = tempDir();
    try {
      const result = await basin(['ls'], { cwd: dir });
      assertFailure(['ls'], result, { message: /basin init/ });
    } finally {
      removeDir(dir);
    }
  });
});

describe('basin init', () => {
  let root;
  before(() => { root = tempDir(); });
  after(() => removeDir(root));

  test('prints the admin credentials once and refuses a second init in the same folder', async () => {
    const dir = path.join(root, 'first');
    const first = await basin(['init', dir]);
    assert.equal(first.code, 0, describeRun(['init', dir], first));
    const password = first.stdout.match(/password:\s+(\S+)/)?.[1];
    assert.ok(password && password.length >= 16, `no generated password in:\n${first.stdout}`);
    assert.match(first.stdout, /user:\s+admin/);
    assert.ok(existsSync(path.join(dir, 'basin.yaml')));
    assert.ok(statSync(path.join(dir, 'lake')).isDirectory(), 'the local lake folder is created');

    const configBefore = readFileSync(path.join(dir, 'basin.yaml'));
    const metadataBefore = readFileSync(path.join(dir, 'metadata.db'));
    const second = await basin(['init', dir]);
    assertFailure(['init', dir], second, { message: /already exists/ });
    assert.doesNotMatch(second.stdout + second.stderr, new RegExp(password), 'the password is never shown again');
    assert.doesNotMatch(second.stdout, /password/i);
    assert.deepEqual(readFileSync(path.join(dir, 'basin.yaml')), configBefore, 'basin.yaml untouched');
    assert.deepEqual(readFileSync(path.join(dir, 'metadata.db')), metadataBefore, 'metadata.db untouched');

    // The password is not stored in plain text anywhere in the home.
    for (const [name, bytes] of Object.entries(readTree(dir))) {
      assert.ok(!bytes.includes(Buffer.from(password)), `${name} holds the admin password in plain text`);
    }
  });

  test('--json before the subcommand prints {home, lake, admin:{user, password}}', async () => {
    const dir = path.join(root, 'json-first');
    const created = await basinJson(['init', dir]);
    assert.equal(created.home, dir);
    assert.equal(created.lake, path.join(dir, 'lake'));
    assert.equal(created.admin.user, 'admin');
    assert.match(created.admin.password, /^[A-Za-z0-9]{16,}$/);
  });

  test('--json after the subcommand works too ("basin init DIR --json", "basin ls --json")', async () => {
    const dir = path.join(root, 'json-after');
    const args = ['init', dir, '--json'];
    const result = await basin(args);
    assert.equal(result.code, 0, describeRun(args, result));
    const created = JSON.parse(result.stdout);
    assert.equal(created.home, dir);
    assert.equal(created.admin.user, 'admin');

    for (const more of [['ls', '--json'], ['user', 'list', '--json'], ['access-key', 'list', '--json']]) {
      const listed = await basin(['--home', dir, ...more]);
      assert.equal(listed.code, 0, describeRun(more, listed));
      assert.ok(Array.isArray(JSON.parse(listed.stdout)), `${more.join(' ')} prints a JSON array`);
    }
  });
});

describe('basin ls / cp / cat / rm on a local lake', () => {
  let home;
  let work;
  before(async () => {
    home = await createHome();
    work = tempDir();
  });
  after(() => {
    home?.cleanup();
    removeDir(work);
  });

  test('ls of an empty lake prints nothing, and [] with --json', async () => {
    const text = await home.run(['ls']);
    assert.equal(text.code, 0, describeRun(['ls'], text));
    assert.equal(text.stdout, '');
    assert.deepEqual(await home.json(['ls']), []);
    assert.deepEqual(await home.json(['ls', '-r']), []);
  });

  test('cp a local file to lake://a/b.csv; cat returns the same bytes', async () => {
    const csv = Buffer.from('id,name\n1,ä\n2,"x,y"\n');
    const file = path.join(work, 'b.csv');
    writeFileSync(file, csv);
    await home.ok(['cp', file, 'lake://a/b.csv']);
    const cat = await home.run(['cat', 'lake://a/b.csv']);
    assert.equal(cat.code, 0, describeRun(['cat'], cat));
    assert.deepEqual(cat.stdoutBytes, csv);
    assert.deepEqual(readFileSync(path.join(home.lake, 'a/b.csv')), csv, 'stored as a file in the lake folder');

    // Binary content with every byte value, and a bare key without lake://.
    const binary = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(300000)]);
    writeFileSync(path.join(work, 'bin.dat'), binary);
    await home.ok(['cp', path.join(work, 'bin.dat'), 'lake://a/bin.dat']);
    const catBinary = await home.run(['cat', 'a/bin.dat']);
    assert.equal(catBinary.code, 0);
    assert.ok(catBinary.stdoutBytes.equals(binary), 'binary object comes back byte for byte');

    const listed = await home.json(['ls', 'lake://a/']);
    assert.deepEqual(listed.map((o) => [o.key, o.size]).sort(), [['a/b.csv', csv.length], ['a/bin.dat', binary.length]]);
  });

  test('cp -r of a folder with nested files and a Korean file name; ls -r --json shows them with sizes', async () => {
    const source = path.join(work, 'src');
    mkdirSync(path.join(source, 'sub', 'deep'), { recursive: true });
    const files = {
      'top.txt': Buffer.from('top\n'),
      'sub/한글 파일.txt': Buffer.from('안녕하세요\n'),
      'sub/deep/data.bin': randomBytes(70000),
      'sub/deep/empty.txt': Buffer.alloc(0),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(source, name), bytes);

    const copied = await home.json(['cp', '-r', source, 'lake://dir/']);
    assert.equal(copied.objects, 4);
    assert.equal(copied.bytes, Object.values(files).reduce((n, b) => n + b.length, 0));

    const listed = await home.json(['ls', '-r', 'lake://dir/']);
    const got = Object.fromEntries(listed.map((o) => [o.key, o.size]));
    const want = Object.fromEntries(Object.entries(files).map(([name, bytes]) => [`dir/${name}`, bytes.length]));
    assert.deepEqual(got, want);
    for (const entry of listed) {
      assert.equal(typeof entry.modified, 'string');
      assert.ok(!Number.isNaN(Date.parse(entry.modified)), `modified is a date: ${entry.modified}`);
    }
    const korean = await home.run(['cat', 'lake://dir/sub/한글 파일.txt']);
    assert.equal(korean.code, 0, describeRun(['cat'], korean));
    assert.equal(korean.stdout, '안녕하세요\n');

    // One level: the file and the sub-folder as a prefix.
    const level = await home.json(['ls', 'lake://dir']);
    assert.deepEqual(level.map((o) => [o.key, Boolean(o.prefix)]).sort(), [['dir/sub/', true], ['dir/top.txt', false]]);

    // cp without -r refuses a folder.
    const noRecursive = await home.run(['cp', source, 'lake://other/']);
    assertFailure(['cp', source], noRecursive, { message: /-r/ });
  });

  test('lake -> local copy back is byte-identical', async () => {
    const back = path.join(work, 'back');
    await home.ok(['cp', '-r', 'lake://dir/', back + '/']);
    const got = readTree(back);
    const want = readTree(path.join(work, 'src'));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
    for (const name of Object.keys(want)) assert.ok(got[name].equals(want[name]), `${name} differs`);

    // A single object to a local file name.
    const single = path.join(work, 'single.bin');
    await home.ok(['cp', 'lake://dir/sub/deep/data.bin', single]);
    assert.ok(readFileSync(single).equals(want['sub/deep/data.bin']));
  });

  test('lake -> lake copy, single object and prefix', async () => {
    await home.ok(['cp', 'lake://a/b.csv', 'lake://c/d.csv']);
    const original = await home.run(['cat', 'lake://a/b.csv']);
    const copy = await home.run(['cat', 'lake://c/d.csv']);
    assert.equal(copy.code, 0);
    assert.ok(copy.stdoutBytes.equals(original.stdoutBytes));

    await home.ok(['cp', '-r', 'lake://dir/sub/', 'lake://copied/']);
    const listed = await home.json(['ls', '-r', 'lake://copied/']);
    assert.deepEqual(listed.map((o) => o.key).sort(),
      ['copied/deep/data.bin', 'copied/deep/empty.txt', 'copied/한글 파일.txt']);
    // The source is still there.
    assert.equal((await home.json(['ls', '-r', 'lake://dir/sub/'])).length, 3);
  });

  test('rm of one object, rm -r of a prefix, rm of a prefix without -r refuses', async () => {
    const removed = await home.json(['rm', 'lake://c/d.csv']);
    assert.deepEqual(removed.deleted, ['c/d.csv']);
    const gone = await home.run(['cat', 'lake://c/d.csv']);
    assert.equal(gone.code, 1);
    assert.equal(existsSync(path.join(home.lake, 'c/d.csv')), false);

    const noRecursive = await home.run(['rm', 'lake://copied']);
    assertFailure(['rm', 'lake://copied'], noRecursive, { message: /-r/ });
    assert.equal((await home.json(['ls', '-r', 'lake://copied/'])).length, 3, 'nothing removed without -r');

    const removedAll = await home.json(['rm', '-r', 'lake://copied']);
    assert.equal(removedAll.deleted.length, 3);
    assert.deepEqual(await home.json(['ls', '-r', 'lake://copied/']), []);
    // Other prefixes are untouched.
    assert.equal((await home.json(['ls', '-r', 'lake://dir/'])).length, 4);
  });

  test('rm of a missing key exits 1 with a not-found message', async () => {
    const result = await home.run(['rm', 'lake://no/such/key.csv']);
    assertFailure(['rm'], result, { message: /no such|not found/i });
    const cat = await home.run(['cat', 'lake://no/such/key.csv']);
    assertFailure(['cat'], cat, { message: /no such|not found|does not exist/i });
  });

  test('keys that escape the lake root are refused and nothing is written outside the lake', async () => {
    // A file just outside the lake, which a ../ key would reach.
    writeFileSync(path.join(home.home, 'x'), 'outside');
    const before = listTree(home.root);
    const local = path.join(work, 'b.csv');
    const attempts = [
      ['cat', 'lake://../x'],
      ['cat', 'lake://a/../../x'],
      ['cp', local, 'lake://a/../../x'],
      ['cp', local, 'lake://../y'],
      ['cp', local, 'lake://./z'],
      ['cp', '-r', path.join(work, 'src'), 'lake://../esc/'],
      ['cp', 'lake://../basin.yaml', path.join(work, 'stolen.yaml')],
      ['rm', 'lake://../basin.yaml'],
      ['rm', '-r', 'lake://..'],
      ['ls', 'lake://../'],
    ];
    for (const args of attempts) {
      const result = await home.run(args);
      assertFailure(args, result);
      assert.notEqual(result.stdout.trim(), 'outside', `${args.join(' ')} printed a file outside the lake`);
    }
    assert.deepEqual(listTree(home.root), before, 'no file was created or removed outside the lake');
    assert.equal(readFileSync(path.join(home.home, 'x'), 'utf8'), 'outside');
    assert.ok(existsSync(path.join(home.home, 'basin.yaml')));
    assert.equal(existsSync(path.join(work, 'stolen.yaml')), false);

    // An absolute-looking key stays inside the lake.
    const absolute = await home.run(['cat', `lake://${path.join(home.home, 'basin.yaml')}`]);
    assert.equal(absolute.code, 1, describeRun(['cat', 'lake:///abs'], absolute));
    assert.doesNotMatch(absolute.stdout, /max_request_size/);
  });
});

describe('basin user / token / access-key', () => {
  let home;
  before(async () => { home = await createHome(); });
  after(() => home?.cleanup());

  test('access-key create --json returns an id and a secret; list shows the key without the secret', async () => {
    const key = await home.json(['access-key', 'create']);
    assert.match(key.access_key_id, /^BK[A-Z0-9]{18}$/);
    assert.equal(typeof key.secret_access_key, 'string');
    assert.equal(key.secret_access_key.length, 40);
    assert.equal(key.user, 'admin');

    const list = await home.json(['access-key', 'list']);
    const entry = list.find((k) => k.access_key_id === key.access_key_id);
    assert.ok(entry, `access-key list lacks ${key.access_key_id}: ${JSON.stringify(list)}`);
    assert.equal(entry.status, 'active');
    assert.ok(!JSON.stringify(list).includes(key.secret_access_key), 'list never shows the secret');

    const revoke = await home.run(['access-key', 'revoke', key.access_key_id]);
    assert.equal(revoke.code, 0, describeRun(['access-key', 'revoke'], revoke));
    const after = await home.json(['access-key', 'list']);
    assert.equal(after.find((k) => k.access_key_id === key.access_key_id).status, 'revoked');

    const missing = await home.run(['access-key', 'revoke', 'BKNOSUCHKEY000000000']);
    assertFailure(['access-key', 'revoke'], missing);
  });

  test('user create --role viewer --json generates a password; user list --json shows the user', async () => {
    const bob = await home.json(['user', 'create', 'bob', '--role', 'viewer']);
    assert.equal(bob.name, 'bob');
    assert.equal(bob.role, 'viewer');
    assert.match(bob.password, /^[A-Za-z0-9]{16,}$/);

    const carol = await home.json(['user', 'create', 'carol', '--role', 'editor', '--password', 'carol-secret-1']);
    assert.equal(carol.role, 'editor');
    assert.equal(carol.password, undefined, 'a given password is not echoed');

    const users = await home.json(['user', 'list']);
    const byName = Object.fromEntries(users.map((u) => [u.name, u]));
    assert.equal(byName.admin.role, 'admin');
    assert.equal(byName.bob.role, 'viewer');
    assert.equal(byName.carol.role, 'editor');
    assert.ok(!JSON.stringify(users).includes(bob.password), 'user list never shows passwords');
    assert.ok(users.every((u) => !('password' in u)));

    const duplicate = await home.run(['user', 'create', 'bob']);
    assertFailure(['user', 'create', 'bob'], duplicate, { message: /exists|taken/i });
    const badRole = await home.run(['user', 'create', 'dave', '--role', 'emperor']);
    assert.equal(badRole.code, 1, describeRun(['user', 'create', '--role', 'emperor'], badRole));
    assert.ok(!(await home.json(['user', 'list'])).some((u) => u.name === 'dave'));
  });

  test('token create --json shows the secret once; token list --json never contains it', async () => {
    const token = await home.json(['token', 'create', '--name', 'ci']);
    assert.equal(token.name, 'ci');
    assert.equal(token.user, 'admin');
    assert.equal(typeof token.token, 'string');
    assert.ok(token.token.length >= 20);
    assert.ok(Number.isInteger(token.id));

    const list = await home.json(['token', 'list']);
    const entry = list.find((t) => t.id === token.id);
    assert.ok(entry, `token list lacks id ${token.id}`);
    assert.equal(entry.name, 'ci');
    assert.equal(entry.revoked, false);
    assert.ok(!JSON.stringify(list).includes(token.token), 'token list never shows the secret');
    const text = await home.run(['token', 'list']);
    assert.ok(!text.stdout.includes(token.token));

    // Neither the token nor an access key secret is stored in plain text.
    const key = await home.json(['access-key', 'create']);
    for (const [name, bytes] of Object.entries(readTree(home.home))) {
      assert.ok(!bytes.includes(Buffer.from(token.token)), `${name} holds the API token in plain text`);
      assert.ok(!bytes.includes(Buffer.from(key.secret_access_key)), `${name} holds the access key secret in plain text`);
    }

    await home.ok(['token', 'revoke', String(token.id)]);
    assert.equal((await home.json(['token', 'list'])).find((t) => t.id === token.id).revoked, true);
  });
});

/**
 * A pass-through HTTP proxy in front of the S3 test server that records each request
 * line: the Host header is kept, so SigV4 signatures still verify.
 */
async function startRecordingProxy(target) {
  const upstream = new URL(target);
  const requests = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const forward = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: request.headers,
    }, (answer) => {
      response.writeHead(answer.statusCode, answer.headers);
      answer.pipe(response);
    });
    forward.on('error', (error) => response.destroy(error));
    request.pipe(forward);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

describe('basin with s3:// URLs', { skip: !s3TestServer() && NO_S3_REASON }, () => {
  let work;
  let prefix;
  let bucket;
  before(() => {
    work = tempDir();
    bucket = s3TestServer().bucket;
    prefix = uniqueId('cli-');
  });
  after(() => removeDir(work));

  const s3 = (args, options = {}) => basin(args, { env: s3Env(), ...options });

  test('cp local -> s3, ls --json, cat, rm', async () => {
    const bytes = randomBytes(5000);
    const file = path.join(work, 'local.bin');
    writeFileSync(file, bytes);
    const url = `s3://${bucket}/${prefix}/x.bin`;
    const cp = await s3(['cp', file, url]);
    assert.equal(cp.code, 0, describeRun(['cp', file, url], cp));

    const ls = await s3(['--json', 'ls', `s3://${bucket}/${prefix}/`]);
    assert.equal(ls.code, 0, describeRun(['ls'], ls));
    const listed = JSON.parse(ls.stdout);
    assert.deepEqual(listed.map((o) => [o.key, o.size]), [[`${prefix}/x.bin`, 5000]]);

    const cat = await s3(['cat', url]);
    assert.equal(cat.code, 0, describeRun(['cat', url], cat));
    assert.ok(cat.stdoutBytes.equals(bytes), 'cat returns the uploaded bytes');

    const rm = await s3(['rm', url]);
    assert.equal(rm.code, 0, describeRun(['rm', url], rm));
    const after = await s3(['--json', 'ls', `s3://${bucket}/${prefix}/`]);
    assert.deepEqual(JSON.parse(after.stdout), []);
    const catGone = await s3(['cat', url]);
    assert.equal(catGone.code, 1, describeRun(['cat', url], catGone));
  });

  test('a 20 MiB file goes local -> s3 (multipart) -> local byte-identical', async () => {
    const big = randomBytes(20 << 20);
    const file = path.join(work, 'big.bin');
    writeFileSync(file, big);
    const url = `s3://${bucket}/${prefix}/big/big.bin`;
    const proxy = await startRecordingProxy(s3TestServer().endpoint);
    try {
      const env = s3Env({ AWS_ENDPOINT_URL: proxy.endpoint });
      const up = await basin(['cp', file, url], { env, timeout: 60000 });
      assert.equal(up.code, 0, describeRun(['cp', file, url], up));
      const uploads = proxy.requests.filter((r) => /^POST .*[?&]uploads(=|&|$)/.test(r));
      const parts = proxy.requests.filter((r) => /^PUT .*[?&]partNumber=\d+/.test(r));
      assert.equal(uploads.length, 1, `one multipart upload started:\n${proxy.requests.join('\n')}`);
      assert.ok(parts.length >= 2, `several parts uploaded:\n${proxy.requests.join('\n')}`);

      const listed = JSON.parse((await s3(['--json', 'ls', url])).stdout);
      assert.deepEqual(listed.map((o) => o.size), [big.length]);

      const back = path.join(work, 'big.back');
      const down = await basin(['cp', url, back], { env, timeout: 60000 });
      assert.equal(down.code, 0, describeRun(['cp', url, back], down));
      assert.ok(readFileSync(back).equals(big), 'the 20 MiB file comes back byte for byte');
    } finally {
      await proxy.close();
    }
    await s3(['rm', '-r', `s3://${bucket}/${prefix}/big/`]);
  });

  test('init --lake s3://bucket/prefix makes an S3 lake; lake:// keys land in the bucket', async () => {
    const lakePrefix = `${prefix}/lake`;
    const home = await createHome({ lake: `s3://${bucket}/${lakePrefix}`, env: s3Env() });
    try {
      assert.equal(home.lake, `s3://${bucket}/${lakePrefix}`);
      assert.equal(existsSync(path.join(home.home, 'lake')), false, 'no local lake folder for an S3 lake');
      assert.match(readFileSync(path.join(home.home, 'basin.yaml'), 'utf8'), new RegExp(`^lake: s3://${bucket}/${lakePrefix}$`, 'm'));

      const file = path.join(work, 'k.csv');
      writeFileSync(file, 'a,b\n1,2\n');
      await home.ok(['cp', file, 'lake://t/k.csv']);
      const ls = await s3(['--json', 'ls', '-r', `s3://${bucket}/${lakePrefix}/`]);
      assert.equal(ls.code, 0, describeRun(['ls'], ls));
      assert.deepEqual(JSON.parse(ls.stdout).map((o) => [o.key, o.size]), [[`${lakePrefix}/t/k.csv`, 8]]);

      // The lake's own view has keys relative to the lake prefix.
      assert.deepEqual((await home.json(['ls', '-r'])).map((o) => o.key), ['t/k.csv']);
      assert.equal((await home.run(['cat', 'lake://t/k.csv'])).stdout, 'a,b\n1,2\n');
      await home.ok(['rm', 'lake://t/k.csv']);
      assert.deepEqual(JSON.parse((await s3(['--json', 'ls', '-r', `s3://${bucket}/${lakePrefix}/`])).stdout), []);
    } finally {
      home.cleanup();
    }
  });

  test('a wrong S3 secret exits 1 with a message naming HTTP 403', async () => {
    const env = s3Env({ AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    const file = path.join(work, 'denied.bin');
    writeFileSync(file, 'denied');
    for (const args of [['ls', `s3://${bucket}/${prefix}/`], ['cp', file, `s3://${bucket}/${prefix}/denied.bin`]]) {
      const result = await basin(args, { env });
      assertFailure(args, result, { message: /403/ });
    }
    const ls = await s3(['--json', 'ls', `s3://${bucket}/${prefix}/`]);
    assert.deepEqual(JSON.parse(ls.stdout), [], 'nothing was written with the wrong secret');
  });
});

describe('commands that only read or change metadata never start the query engine', () => {
  // Starting a DuckDB engine makes its folder below the home's engine/ (Engine::Make);
  // nothing else does. The last test shows that a query does make it, so this probe works.
  // A fresh home for each test, so that one test's engine cannot fail another.
  let home;
  let engineDir;
  beforeEach(async () => {
    home = await createHome({ label: 'basin-no-engine-' });
    engineDir = path.join(home.home, 'engine');
  });
  afterEach(() => home?.cleanup());

  const assertNoEngine = (args) => assert.ok(!existsSync(engineDir),
    `basin ${args.join(' ')} started the query engine (${engineDir} exists)`);

  async function ok(args) {
    const output = await home.ok(args);
    assertNoEngine(args);
    return output;
  }

  async function json(args) {
    const output = await home.json(args);
    assertNoEngine(args);
    return output;
  }

  test('catalog and crawler definitions', async () => {
    await ok(['catalog', 'create-database', 'shop']);
    assert.deepEqual(await json(['catalog', 'databases']), ['shop']);
    await ok(['catalog', 'create-table', 'shop.visits', '--location', 'lake://visits', '--format', 'parquet',
      '--column', 'user_id:bigint', '--partition-key', 'dt:DATE']);
    await ok(['catalog', 'alter-table', 'shop.visits', '--add-column', 'score:DOUBLE']);
    await ok(['catalog', 'add-partition', 'shop.visits', '--value', '2026-11-24']);
    assert.equal((await json(['catalog', 'tables', 'shop'])).length, 1);
    assert.equal((await json(['catalog', 'partitions', 'shop.visits'])).length, 1);
    assert.equal((await json(['catalog', 'describe', 'shop.visits'])).partition_count, 1);
    await ok(['catalog', 'describe', 'shop.visits']);
    await ok(['catalog', 'drop-partition', 'shop.visits', '--location', 'lake://visits/dt=2026-11-24/']);

    await ok(['crawler', 'create', 'visits', '--target', 'lake://visits/', '--database', 'shop']);
    assert.deepEqual((await json(['crawler', 'list'])).map((c) => c.name), ['visits']);
    assert.equal((await json(['crawler', 'show', 'visits'])).name, 'visits');
    await ok(['crawler', 'delete', 'visits']);

    await ok(['catalog', 'drop-table', 'shop.visits']);
    await ok(['catalog', 'drop-database', 'shop']);
  });

  test('users, tokens, access keys, workgroups, saved queries, history, streams', async () => {
    await ok(['workgroup', 'create', 'analysts']);
    await json(['workgroup', 'list']);
    await json(['workgroup', 'show', 'analysts']);
    await ok(['workgroup', 'update', 'analysts', '--max-concurrent', '2']);
    await json(['user', 'create', 'ana', '--role', 'viewer']);
    await ok(['user', 'set-workgroup', 'ana', 'primary']);
    assert.equal((await json(['user', 'list'])).length, 2);
    const token = await json(['token', 'create', '--user', 'ana', '--name', 'ci']);
    await json(['token', 'list', '--user', 'ana']);
    await ok(['token', 'revoke', String(token.id)]);
    const key = await json(['access-key', 'create', '--user', 'ana']);
    await json(['access-key', 'list', '--user', 'ana']);
    await ok(['access-key', 'revoke', key.access_key_id]);
    await ok(['user', 'delete', 'ana']);
    await ok(['workgroup', 'delete', 'analysts']);

    await ok(['saved-query', 'save', 'top', '--sql', 'SELECT 1']);
    await json(['saved-query', 'list']);
    await json(['saved-query', 'show', 'top']);
    await ok(['saved-query', 'delete', 'top']);
    await json(['history']);

    await ok(['stream', 'create', 'clicks', '--table', 'web.clicks']);
    await json(['stream', 'list']);
    await ok(['stream', 'update', 'clicks', '--buffer-seconds', '5']);
    await ok(['stream', 'delete', 'clicks']);
  });

  test('a query does start the engine (the probe above sees it)', async () => {
    await home.ok(['query', 'SELECT 42']);
    assert.ok(existsSync(engineDir), `basin query made no ${engineDir}`);
  });
});
