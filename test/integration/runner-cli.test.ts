import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LocalSqs } from '../../local/sqs/local-sqs.js';
import { startSqsServer } from '../../local/sqs/sqs-server.js';
import { parseJob } from '../../shared/jobs/job-schemas.js';
import { startTestTable } from '../support/dynalite.js';
import { createFixtureOrigin, FIXED_CART, type FixtureOrigin } from '../support/git-fixtures.js';
import {
  buildJobSpec,
  createTempDir,
  isProcessAlive,
  runDirs,
  runRunnerCli,
  runRunnerFargate,
  TEST_ANTHROPIC_KEY,
  writeFakeClaude,
} from './runner-support.js';

/**
 * The runner as a process: its contract (job.json in, result.json out, exit codes), its limits
 * (timeouts that kill process trees), verify, and the Fargate mode (spec from DynamoDB, result as
 * a `fix.result` job on SQS). The agent here is a scripted stand-in `claude` executable.
 */

// Every run here is a runner process (clone, the CLI, two verify runs, push) bounded by the
// harness's own 120 s limit; on a loaded machine one takes well over vitest's default.
vi.setConfig({ testTimeout: 120_000 });

const run$ = promisify(execFile);
let origin: FixtureOrigin;
let temp: Awaited<ReturnType<typeof createTempDir>>;

beforeEach(async () => {
  origin = await createFixtureOrigin();
  temp = await createTempDir('bugbot-cli-test-');
});

afterEach(async () => {
  await temp.cleanup();
  await origin.cleanup();
});

const FIX_CART = `sed -i 's/let i = 1;/let i = 0;/' src/cart.js`;

async function fakeClaude(
  script: string,
  result: Record<string, unknown> = {},
  exitCode = 0,
): Promise<string> {
  return writeFakeClaude(join(temp.path, 'bin'), script, result, exitCode);
}

describe('job.json validation', () => {
  it('fails with a clear error naming every bad field, and clones nothing', async () => {
    const spec = buildJobSpec(origin);
    const run = await runRunnerCli({
      job: {
        ...spec,
        branch: 'main',
        limits: { ...spec.limits, maxTurns: 0 },
        allowlist: ['../', '.github/'],
      },
      workDir: temp.path,
    });
    expect(run.exitCode).toBe(1);
    expect(run.result).toMatchObject({
      jobId: 'job-test-1',
      status: 'failed',
      branch: 'main',
      changedFiles: [],
    });
    expect(run.result.error).toMatch(/^invalid job: /);
    expect(run.result.error).toContain('allowlist.0: relative path segment');
    expect(run.result.error).toContain('allowlist.1: git metadata file (.git*)');
    expect(run.result.error).toContain('limits.maxTurns:');
    expect(run.result.error).toContain('branch: must differ from repo.baseBranch');
  });

  it('fails on a job file that is not JSON', async () => {
    const run = await runRunnerCli({ job: '{"jobId": ', workDir: temp.path });
    expect(run.exitCode).toBe(1);
    expect(run.result).toMatchObject({ jobId: 'unknown', status: 'failed' });
    expect(run.result.error).toMatch(/^could not read the job file/);
  });

  it('fails without ANTHROPIC_API_KEY, naming it', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: { ANTHROPIC_API_KEY: '' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.result.error).toBe('invalid configuration: ANTHROPIC_API_KEY: is required');
  });

  it('refuses credentials in the clone URL and https without GITHUB_TOKEN', async () => {
    const withCredentials = await runRunnerCli({
      job: buildJobSpec(origin, {
        repo: { cloneUrl: 'https://user:pw@github.com/acme/shop.git', baseBranch: 'main' },
      }),
      workDir: temp.path,
    });
    expect(withCredentials.result.error).toContain('repo.cloneUrl: must not carry credentials');
    const noToken = await runRunnerCli({
      job: buildJobSpec(origin, {
        repo: { cloneUrl: 'https://github.com/acme/shop.git', baseBranch: 'main' },
      }),
      workDir: join(temp.path, 'second'),
    });
    expect(noToken.exitCode).toBe(1);
    expect(noToken.result.error).toBe('GITHUB_TOKEN is required for an https:// repository');
  });
});

describe('outcomes and exit codes', () => {
  it('no changes: exit 0, nothing pushed, verify not run', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin, { verify: { command: 'touch VERIFY_RAN' } }),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(':', { result: 'Nothing to fix.' }) },
    });
    expect(run.exitCode).toBe(0);
    expect(run.result).toMatchObject({
      status: 'no_changes',
      baseCommit: origin.baseCommit,
      summary: 'Nothing to fix.',
    });
    expect(run.result.verify).toBeUndefined();
    expect(await origin.listBranches()).toEqual(['refs/heads/main']);
  });

  it('records a failing verify and still pushes (the PR becomes a draft)', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin, { verify: { command: 'node --test' } }),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(`echo '// looked at it' >> src/cart.js`) },
    });
    expect(run.exitCode).toBe(0);
    expect(run.result.status).toBe('pushed');
    expect(run.result.verify).toMatchObject({ command: 'node --test', exitCode: 1 });
    expect(run.result.verify?.outputTail).toMatch(/# fail 1/);
    expect(await origin.readBranch('bugbot/job-test-1')).toBe(run.result.headCommit);
  });

  it('verify runs with a scrubbed environment and its output tail is bounded', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin, {
        verify: {
          command: 'env | sort; echo "uid=$(id -u)"; head -c 20000 /dev/zero | tr "\\0" x; echo; echo END',
        },
      }),
      workDir: temp.path,
      env: {
        CLAUDE_BIN: await fakeClaude(FIX_CART),
        GITHUB_TOKEN: 'ghp' + '_notForVerify0123456789abcdefghijABCD',
      },
    });
    expect(run.result.verify?.exitCode).toBe(0);
    const tail = run.result.verify!.outputTail;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096);
    expect(tail.endsWith('END\n')).toBe(true);
    const verifyEnv = await readFile(join(runDirs(temp.path).root, 'runner', 'verify-after.log'), 'utf8');
    expect(verifyEnv).toMatch(/^CI=1$/m);
    // The sandbox's tests user, never the runner's.
    expect(Number(/^uid=(\d+)$/m.exec(verifyEnv)?.[1])).toBeGreaterThanOrEqual(1_900_000_000);
    expect(verifyEnv).not.toMatch(/^(ANTHROPIC_API_KEY|GITHUB_TOKEN|AWS_[A-Z_]+)=/m);
    expect(verifyEnv).not.toContain(TEST_ANTHROPIC_KEY);
  });

  it('a verify that overruns its limit is killed and recorded without an exit code', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin, { verify: { command: 'echo started; sleep 60', timeoutSeconds: 1 } }),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(FIX_CART) },
    });
    expect(run.result.status).toBe('pushed');
    expect(run.result.verify).toEqual({
      command: 'echo started; sleep 60',
      exitCode: null,
      outputTail: 'started\n\n[bugbot] verify did not finish within 1 s and was stopped',
    });
  });

  it('an agent that ends in error (turn limit) fails the run: exit 1, nothing pushed, cost kept', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: {
        CLAUDE_BIN: await fakeClaude(
          FIX_CART,
          { subtype: 'error_max_turns', is_error: true, result: undefined, total_cost_usd: 0.42 },
          1,
        ),
      },
    });
    expect(run.exitCode).toBe(1);
    expect(run.result).toMatchObject({
      status: 'failed',
      error: 'the agent reached its turn limit before finishing',
      costUsd: 0.42,
    });
    expect(await origin.listBranches()).toEqual(['refs/heads/main']);
  });

  it('an agent that prints no result fails the run with its last stderr line', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude('echo "Invalid API key" >&2; exit 1') },
    });
    // writeFakeClaude prints the JSON after the body; `exit 1` stops before it.
    expect(run.exitCode).toBe(1);
    expect(run.result.error).toBe('the Claude Code CLI exited with 1 without a result: Invalid API key');
  });

  it('never touches a branch that already exists on the origin', async () => {
    await origin.git(['branch', 'bugbot/job-test-1', origin.baseCommit]);
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(FIX_CART) },
    });
    expect(run.exitCode).toBe(1);
    expect(run.result).toMatchObject({
      status: 'failed',
      error: 'the branch bugbot/job-test-1 already exists on the remote',
    });
    expect(await origin.readBranch('bugbot/job-test-1')).toBe(origin.baseCommit);
  });

  it('pushes from a partial clone after the base branch moved on, sending only the fix', async () => {
    // Move main on the origin once the clone is done: the agent step is a good moment. The agent
    // runs as a sandbox user, so this test lets everyone write the origin.
    await run$('chmod', ['-R', 'a+rwX', origin.root]);
    const moved = (await origin.git(['commit-tree', '-p', 'main', '-m', 'moved on', 'main^{tree}'])).trim();
    const bin = await fakeClaude(
      `git -c safe.directory="*" -C ${origin.originPath} update-ref refs/heads/main ${moved}\n${FIX_CART}`,
    );
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: { CLAUDE_BIN: bin },
    });
    expect(run.result.status).toBe('pushed');
    expect(await origin.readBranch('main')).toBe(moved);
    expect(await origin.git(['rev-list', '--parents', `${origin.baseCommit}..bugbot/job-test-1`])).toBe(
      `${run.result.headCommit} ${origin.baseCommit}\n`,
    );
    expect(await origin.readFile('bugbot/job-test-1', 'src/cart.js')).toBe(FIXED_CART);
    // The clone's pack and the checkout's one batch of blobs; the push fetched nothing (without
    // push.negotiate it would fetch the history's blobs to send them back).
    const packs = (await readdir(join(runDirs(temp.path).runnerGitDir, 'objects', 'pack'))).filter((name) =>
      name.endsWith('.pack'),
    );
    expect(packs).toHaveLength(2);
  });
});

describe('a fix proves itself: reproduction', () => {
  // A base whose own tests pass (they miss the bug), as most buggy repositories' do.
  const GREEN_TESTS = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrice } from './cart.js';

test('formatPrice shows cents', () => {
  assert.equal(formatPrice(3), '$3.00');
});
`;
  const TOTAL_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cartTotal } from './cart.js';

test('cartTotal counts the first item', () => {
  assert.equal(cartTotal([{ price: 2.5, quantity: 2 }, { price: 1, quantity: 3 }]), 8);
});
`;

  async function runProof(script: string) {
    await origin.cleanup();
    origin = await createFixtureOrigin({ extraFiles: { 'src/cart.test.js': GREEN_TESTS } });
    return runRunnerCli({
      job: buildJobSpec(origin, { verify: { command: 'node --test' } }),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(script) },
    });
  }

  it('reproduced: the new test fails on the base tree with only the test files added, and passes on the fix', async () => {
    const run = await runProof(`cat > src/total.test.js <<'JS'\n${TOTAL_TEST}JS\n${FIX_CART}`);
    expect(run.result.status).toBe('pushed');
    expect(run.result.reproduction).toMatchObject({
      status: 'reproduced',
      tests: ['src/total.test.js'],
      before: { exitCode: 1 },
      after: { exitCode: 0 },
    });
    // The base code (the bug) ran under the new test: 2 passed, 1 failed with the bug's number.
    expect(run.result.reproduction?.before?.outputTail).toMatch(/# pass 1\n# fail 1/);
    expect(run.result.reproduction?.before?.outputTail).toContain('3 !== 8');
    expect(run.result.reproduction?.after?.outputTail).toMatch(/# pass 2\n# fail 0/);
    // verify keeps meaning the final tree.
    expect(run.result.verify).toEqual({ command: 'node --test', ...run.result.reproduction?.after });
  });

  it('a changed existing test counts too, and only test files go onto the base', async () => {
    const run = await runProof(
      `cat >> src/cart.test.js <<'JS'\nimport { cartTotal } from './cart.js';\ntest('first item', () => assert.equal(cartTotal([{ price: 1, quantity: 1 }]), 1));\nJS\n${FIX_CART}\necho '// helper' > src/helper.js`,
    );
    expect(run.result.reproduction).toMatchObject({
      status: 'reproduced',
      tests: ['src/cart.test.js'],
      before: { exitCode: 1 },
      after: { exitCode: 0 },
    });
  });

  it('not_reproduced: a new test that passes on the base tree too does not catch the bug', async () => {
    const run = await runProof(
      `cat > src/price.test.js <<'JS'\nimport { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { formatPrice } from './cart.js';\ntest('cents', () => assert.equal(formatPrice(1), '$1.00'));\nJS\n${FIX_CART}`,
    );
    expect(run.result.status).toBe('pushed');
    expect(run.result.reproduction).toMatchObject({
      status: 'not_reproduced',
      tests: ['src/price.test.js'],
      before: { exitCode: 0 },
      after: { exitCode: 0 },
    });
  });

  it('no_test: no test file changed, so only the final tree runs', async () => {
    const run = await runProof(FIX_CART);
    expect(run.result.reproduction).toEqual({
      status: 'no_test',
      tests: [],
      after: { exitCode: 0, outputTail: expect.stringMatching(/# pass 1\n# fail 0/) },
    });
    expect(run.result.verify?.exitCode).toBe(0);
  });

  it('without verify there is no reproduction', async () => {
    const run = await runRunnerCli({
      job: buildJobSpec(origin),
      workDir: temp.path,
      env: { CLAUDE_BIN: await fakeClaude(FIX_CART) },
    });
    expect(run.result.status).toBe('pushed');
    expect(run.result.verify).toBeUndefined();
    expect(run.result.reproduction).toBeUndefined();
  });
});

describe('the wall-clock limit', () => {
  it('kills the agent and everything it started, and fails the run', async () => {
    const claudeBin = await fakeClaude(`
sleep 300 &
echo $! > "$HOME/child.pid"
echo $$ > "$HOME/agent.pid"
sleep 300
`);
    const started = Date.now();
    const run = await runRunnerCli({
      job: buildJobSpec(origin, { limits: { ...buildJobSpec(origin).limits, timeoutSeconds: 2 } }),
      workDir: temp.path,
      env: { CLAUDE_BIN: claudeBin },
    });
    // The agent would sleep 300 s; the runner's whole run (clone, 2 s of agent, cleanup) stays far
    // below that even on a busy machine, and below the harness's own 120 s kill.
    expect(Date.now() - started).toBeLessThan(90_000);
    expect(run.exitCode).toBe(1);
    expect(run.result).toMatchObject({
      status: 'failed',
      error: 'the agent did not finish within 2 s and was stopped',
    });
    const home = join(runDirs(temp.path).root, 'agent-home');
    const agentPid = Number(await readFile(join(home, 'agent.pid'), 'utf8'));
    const childPid = Number(await readFile(join(home, 'child.pid'), 'utf8'));
    expect(await isProcessAlive(agentPid)).toBe(false);
    expect(await isProcessAlive(childPid)).toBe(false);
    expect(await origin.listBranches()).toEqual(['refs/heads/main']);
  });
});

describe('Fargate mode (JOB_ID): spec from DynamoDB, result to SQS', () => {
  it('reads the stored spec, runs it, and sends a fix.result job', async () => {
    const table = await startTestTable();
    const engine = new LocalSqs();
    const sqsServer = await startSqsServer({ engine, port: 0 });
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: sqsServer.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'jobs' }));
      const spec = buildJobSpec(origin, { jobId: 'job-fargate-1', branch: 'bugbot/job-fargate-1' });
      await table.doc.send(
        new PutCommand({ TableName: table.tableName, Item: { pk: 'JOB#job-fargate-1', sk: 'JOB', spec } }),
      );
      const awsEnv = {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
        AWS_ENDPOINT_URL_SQS: sqsServer.url,
        TABLE_NAME: table.tableName,
        JOBS_QUEUE_URL: QueueUrl!,
        CLAUDE_BIN: await fakeClaude(FIX_CART),
      };
      const run = await runRunnerFargate(temp.path, { ...awsEnv, JOB_ID: 'job-fargate-1' });
      expect(run.exitCode).toBe(0);

      const missing = await runRunnerFargate(temp.path, { ...awsEnv, JOB_ID: 'job-nobody' });
      expect(missing.exitCode).toBe(1);

      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const jobs = Messages.map((message) => parseJob(message.Body ?? ''));
      expect(jobs.map((job) => job.ok)).toEqual([true, true]);
      const [pushed, failed] = jobs.map((job) =>
        job.ok && job.job.kind === 'fix.result' ? job.job : undefined,
      );
      expect(pushed).toMatchObject({
        v: 1,
        kind: 'fix.result',
        idempotencyKey: 'fix-result:job-fargate-1',
        result: {
          jobId: 'job-fargate-1',
          status: 'pushed',
          branch: 'bugbot/job-fargate-1',
          baseCommit: origin.baseCommit,
        },
      });
      expect(await origin.readBranch('bugbot/job-fargate-1')).toBe(pushed?.result.headCommit);
      expect(failed).toMatchObject({
        idempotencyKey: 'fix-result:job-nobody',
        result: { jobId: 'job-nobody', status: 'failed', error: 'no job spec stored for this job id' },
      });
    } finally {
      sqs.destroy();
      await sqsServer.close();
      engine.close();
      await table.close();
    }
  });
});
