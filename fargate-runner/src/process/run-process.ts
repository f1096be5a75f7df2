import { spawn } from 'node:child_process';

/**
 * Runs a program with an argument array (never a shell string), in its own process group, with a
 * wall-clock limit that kills the whole group: whatever the program started dies with it.
 */

export interface RunProcessOptions {
  readonly cwd?: string;
  /** The complete environment: nothing is inherited from the runner. */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  readonly input?: string | Buffer;
  /** Keep at most this many bytes of stdout (the head is kept; excess is counted). Default 64 MiB. */
  readonly maxStdoutBytes?: number;
  /** Keep the last this many bytes of stderr. Default 64 KiB. */
  readonly stderrTailBytes?: number;
  /** Send stdout and stderr, interleaved, to this open file instead of capturing them. */
  readonly outputFd?: number;
  /**
   * Run as this user (and only its own group: libuv drops supplementary groups), through
   * `setpriv --no-new-privs --inh-caps=-all` so no setuid program or file capability can give
   * privileges back, and `--pdeathsig KILL` so the program dies with the runner. Needs the runner
   * to be root; `setpriv` is the path to the program.
   */
  readonly user?: { readonly uid: number; readonly gid: number };
  readonly setpriv?: string;
}

export interface ProcessOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly stdout: Buffer;
  readonly stdoutTruncated: boolean;
  /** The tail of stderr. */
  readonly stderr: string;
  readonly durationMs: number;
}

export class ProcessStartError extends Error {
  constructor(command: string, options: { cause: unknown }) {
    super(`could not start ${command}`, options);
    this.name = 'ProcessStartError';
  }
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessOutcome> {
  const started = Date.now();
  const maxStdout = options.maxStdoutBytes ?? 64 * 1024 * 1024;
  const stderrTail = options.stderrTailBytes ?? 64 * 1024;
  if (options.user && !options.setpriv) throw new Error('runProcess: a user needs the setpriv path');
  const [program, argv] = options.user
    ? [options.setpriv as string, [...SETPRIV_OPTIONS, '--', command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, {
      cwd: options.cwd,
      env: options.env,
      ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      // Its own process group, so a timeout can kill the program and everything it spawned.
      detached: true,
      stdio: [
        options.input === undefined ? 'ignore' : 'pipe',
        options.outputFd ?? 'pipe',
        options.outputFd ?? 'pipe',
      ],
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stdoutTruncated = false;
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let settled = false;

    child.stdout?.on('data', (chunk: Buffer) => {
      if (stdoutBytes >= maxStdout) {
        stdoutTruncated = true;
        return;
      }
      const room = maxStdout - stdoutBytes;
      stdout.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      stdoutBytes += Math.min(chunk.length, room);
      if (chunk.length > room) stdoutTruncated = true;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > stderrTail * 2) stderr = stderr.subarray(stderr.length - stderrTail);
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {
        // The program may exit without reading its input; that is its answer, not our fault.
      });
      child.stdin.end(options.input);
    }

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);

    child.once('error', (error) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new ProcessStartError(command, { cause: error }));
    });
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout),
        stdoutTruncated,
        stderr: stderr.subarray(Math.max(0, stderr.length - stderrTail)).toString('utf8'),
        durationMs: Date.now() - started,
      });
    };
    // Anything the program left running in its group goes when it exits; otherwise a leftover
    // holding stdout open would keep 'close' from ever coming. One that left the group (a new
    // session) still could: past a short grace the pipes are dropped and the outcome stands (the
    // sandbox then stops every process of its user).
    child.once('exit', (exitCode, signal) => {
      killGroup(child.pid);
      const grace = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(exitCode, signal);
      }, CLOSE_GRACE_MS);
      grace.unref();
      child.once('close', () => clearTimeout(grace));
    });
    child.once('close', (exitCode, signal) => finish(exitCode, signal));
  });
}

/**
 * How a sandboxed program is started. `--pdeathsig KILL`: the program runs in a session of its
 * own (so a timeout can kill its group), so a runner killed outright (SIGKILL: the local
 * launcher's stop and time limit, a crash) used to leave it running, reparented to init, with
 * nobody left to stop its user: the Claude Code CLI went on waiting on the API and editing the
 * workspace, spawning PreToolUse hooks. The parent-death signal, set by setpriv after the switch
 * to the user (a credential change would clear it) and kept across the exec of a program that is
 * not setuid, kills it the moment the runner dies; its hooks then read EOF and exit. In Fargate
 * the task's init kills every process anyway once the runner exits; elsewhere this is what does.
 */
export const SETPRIV_OPTIONS = ['--no-new-privs', '--inh-caps=-all', '--pdeathsig', 'KILL'] as const;

/** How long output may still arrive after the program exited. */
const CLOSE_GRACE_MS = 2000;

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The last `maxBytes` bytes of `text` (on a character boundary), for output tails. */
export function tailText(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  // Drop a partial character at the cut.
  return bytes
    .subarray(bytes.length - maxBytes)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
}
