import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runProcess } from '../../fargate-runner/src/process/run-process.js';
import { listProcessesOf } from '../../fargate-runner/src/sandbox/processes.js';
import {
  acquireSandbox,
  SANDBOX_UID_BASE,
  type Sandbox,
  stopUser,
} from '../../fargate-runner/src/sandbox/sandbox-users.js';
import { isProcessAlive } from './runner-support.js';

/**
 * The sandbox users themselves (fargate-runner/src/sandbox/): fresh ids per run that concurrent
 * runs never share, commands that run as them without privileges, and a stop that reaches every
 * process of theirs — and nobody else's.
 */

let lockDir: string;

beforeEach(async () => {
  lockDir = join(await mkdtemp(join(tmpdir(), 'bugbot-users-test-')), 'locks');
});

afterEach(async () => {
  await rm(join(lockDir, '..'), { recursive: true, force: true });
});

const PATH = process.env.PATH ?? '/usr/bin:/bin';

function asUser(sandbox: Sandbox, script: string) {
  return runProcess('sh', ['-c', script], {
    env: { PATH },
    timeoutMs: 10_000,
    user: sandbox.tests,
    setpriv: sandbox.setpriv,
  });
}

describe('acquireSandbox', () => {
  it('gives concurrent runs distinct, unused ids, and frees them on release', async () => {
    const acquired = await Promise.all(Array.from({ length: 8 }, () => acquireSandbox({ lockDir })));
    const ids = acquired.flatMap(({ state }) => (state.available ? [state.agent.uid, state.tests.uid] : []));
    expect(ids).toHaveLength(16);
    expect(new Set(ids).size).toBe(16);
    expect(ids.every((id) => id >= SANDBOX_UID_BASE)).toBe(true);
    expect(await readdir(lockDir)).toHaveLength(8);
    await Promise.all(acquired.map(({ release }) => release()));
    expect(await readdir(lockDir)).toEqual([]);
  });

  it('runs commands as the user with no group, capability or way back to privileges', async () => {
    const { state, release } = await acquireSandbox({ lockDir });
    try {
      if (!state.available) throw new Error('the tests run as root');
      const outcome = await asUser(
        state,
        'id -u; id -G; grep -E "^(CapPrm|CapEff|CapInh|CapAmb|NoNewPrivs):" /proc/self/status',
      );
      expect(outcome.stdout.toString()).toBe(
        [
          String(state.tests.uid),
          String(state.tests.gid),
          'CapInh:\t0000000000000000',
          'CapPrm:\t0000000000000000',
          'CapEff:\t0000000000000000',
          'CapAmb:\t0000000000000000',
          'NoNewPrivs:\t1',
          '',
        ].join('\n'),
      );
    } finally {
      await release();
    }
  });

  it('refuses a lock directory others could write: the run fails rather than risk a shared id', async () => {
    await mkdir(lockDir, { recursive: true });
    await chmod(lockDir, 0o777);
    await expect(acquireSandbox({ lockDir })).rejects.toThrow(/not private to root/);
  });
});

describe('stopUser', () => {
  it('kills every process of the user, new sessions included, and leaves others alone', async () => {
    const { state, release } = await acquireSandbox({ lockDir });
    const bystander = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    try {
      if (!state.available) throw new Error('the tests run as root');
      // Three escapes: a background child, a new session, a double fork.
      const outcome = await asUser(
        state,
        'sleep 60 & echo $!; setsid sleep 60 & echo $!; (sleep 60 &) ; sleep 0.2; exit 0',
      );
      const started = outcome.stdout.toString().trim().split('\n').map(Number);
      // runProcess killed its group; the new session and the orphan escaped it.
      expect((await listProcessesOf([state.tests.uid])).length).toBeGreaterThan(0);
      await stopUser(state, state.tests);
      expect(await listProcessesOf([state.tests.uid])).toEqual([]);
      for (const pid of started) expect(await isProcessAlive(pid)).toBe(false);
      expect(await isProcessAlive(bystander.pid!)).toBe(true);
    } finally {
      bystander.kill('SIGKILL');
      await release();
    }
  });
});
