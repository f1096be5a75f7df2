import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runProcess, tailText } from '../../fargate-runner/src/process/run-process.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('runProcess', () => {
  it('captures output with only the environment it is given', async () => {
    const outcome = await runProcess('sh', ['-c', 'echo "$ONLY_THIS:[$HOME]"; echo err >&2'], {
      env: { ...env, ONLY_THIS: 'yes' },
      timeoutMs: 10_000,
    });
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, stderr: 'err\n' });
    expect(outcome.stdout.toString()).toBe('yes:[]\n');
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const outcome = await runProcess('sh', ['-c', 'sleep 120 & echo $!; sleep 120'], { env, timeoutMs: 500 });
    expect(outcome.timedOut).toBe(true);
    expect(outcome.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(20_000);
    const child = Number(outcome.stdout.toString().trim());
    // Gone, or a zombie left for init to reap.
    const stat = await readFile(`/proc/${child}/stat`, 'utf8').catch(() => '');
    expect(stat === '' || /^\d+ \(.*\) Z/.test(stat)).toBe(true);
  });

  it('does not wait for a leftover child holding stdout open', async () => {
    const started = Date.now();
    const outcome = await runProcess('sh', ['-c', 'sleep 120 & echo done'], { env, timeoutMs: 100_000 });
    expect(outcome.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('does not wait for a process in a new session holding stdout open, and keeps the output', async () => {
    const started = Date.now();
    const outcome = await runProcess('sh', ['-c', 'setsid sleep 120 & echo $!; echo done'], {
      env,
      timeoutMs: 100_000,
    });
    expect(outcome.exitCode).toBe(0);
    const [escaped, done] = outcome.stdout.toString().trim().split('\n');
    expect(done).toBe('done');
    expect(Date.now() - started).toBeLessThan(20_000);
    process.kill(Number(escaped), 'SIGKILL');
  });

  it('bounds stdout', async () => {
    const outcome = await runProcess('sh', ['-c', 'head -c 5000 /dev/zero'], {
      env,
      timeoutMs: 10_000,
      maxStdoutBytes: 100,
    });
    expect(outcome.stdout.length).toBe(100);
    expect(outcome.stdoutTruncated).toBe(true);
  });

  it('rejects when the program cannot start', async () => {
    await expect(runProcess('/nonexistent/claude', [], { env, timeoutMs: 1000 })).rejects.toThrow(
      'could not start /nonexistent/claude',
    );
  });
});

describe('tailText', () => {
  it('keeps the last bytes without splitting a character', () => {
    expect(tailText('abcdef', 3)).toBe('def');
    expect(tailText('aé', 1)).toBe('');
    expect(tailText('short', 100)).toBe('short');
  });
});
