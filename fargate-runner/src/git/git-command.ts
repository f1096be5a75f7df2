import { BugbotError } from '../../../shared/domain/errors.js';
import { runProcess } from '../process/run-process.js';

/**
 * Every git command the runner runs goes through here: an argument array, a clean environment,
 * and configuration that no repository can override where it matters.
 *
 * Config precedence is system < global < repository < command line / GIT_CONFIG_* env. System and
 * global files are switched off; the overrides below win over anything a repository's config
 * (or an agent who managed to write one) says. Beyond them, the runner never reads a config the
 * agent could write: it keeps its own git directory outside the agent's workspace.
 */

export interface GitAuth {
  /** `https://host/` that the header is scoped to, so a redirect elsewhere never carries it. */
  readonly origin: string;
  /** The full header line, e.g. `Authorization: Basic …`. Never written to disk or argv. */
  readonly header: string;
}

export interface GitOptions {
  readonly cwd: string;
  /** HOME for git: an empty directory of the runner's. */
  readonly home: string;
  readonly gitDir?: string;
  readonly workTree?: string;
  readonly indexFile?: string;
  readonly auth?: GitAuth;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
  /** Extra variables (author identity and dates for commit-tree). */
  readonly env?: Readonly<Record<string, string>>;
  readonly path?: string;
  /**
   * The most stdout a caller takes (default `DEFAULT_GIT_STDOUT_BYTES`). More fails the command
   * with `GitOutputTruncatedError`: a caller handed a silently cut output would judge a part as
   * the whole.
   */
  readonly maxStdoutBytes?: number;
}

export const DEFAULT_GIT_STDOUT_BYTES = 64 * 1024 * 1024;

export class GitError extends BugbotError {
  constructor(
    readonly subcommand: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${subcommand} failed (exit ${exitCode ?? 'signal'}): ${firstLines(stderr)}`);
  }
}

/**
 * Overrides for keys a hostile config could use to run code, redirect traffic or weaken checks.
 * Passed through GIT_CONFIG_* variables so they reach every git subprocess too (lazy fetches,
 * pack-objects, remote helpers).
 */
const HARDENED_CONFIG: ReadonlyArray<readonly [string, string]> = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.untrackedCache', 'false'],
  ['core.pager', 'cat'],
  ['core.editor', 'false'],
  ['core.askPass', ''],
  ['core.sshCommand', 'false'],
  ['core.attributesFile', '/dev/null'],
  ['core.excludesFile', '/dev/null'],
  ['core.protectNTFS', 'true'],
  ['core.protectHFS', 'true'],
  ['core.trustctime', 'true'],
  ['core.checkStat', 'default'],
  ['core.splitIndex', 'false'],
  ['core.autocrlf', 'false'],
  ['core.safecrlf', 'false'],
  ['diff.external', ''],
  ['diff.noprefix', 'false'],
  ['credential.helper', ''],
  ['http.sslVerify', 'true'],
  ['http.proxy', ''],
  ['http.emptyAuth', 'false'],
  ['protocol.allow', 'never'],
  ['protocol.file.allow', 'always'],
  ['protocol.https.allow', 'always'],
  ['protocol.http.allow', 'always'],
  ['protocol.ssh.allow', 'never'],
  ['protocol.ext.allow', 'never'],
  ['uploadpack.packObjectsHook', ''],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['advice.detachedHead', 'false'],
  ['init.defaultBranch', 'main'],
  ['user.useConfigOnly', 'true'],
  ['commit.gpgSign', 'false'],
  ['push.gpgSign', 'false'],
  ['push.followTags', 'false'],
  ['push.recurseSubmodules', 'no'],
  // Without it, a push from a partial clone whose base branch has moved on cannot tell what the
  // remote has, and lazily fetches the blobs of the whole history to send them back.
  ['push.negotiate', 'true'],
  ['submodule.recurse', 'false'],
  ['fetch.recurseSubmodules', 'false'],
];

export async function runGit(args: readonly string[], options: GitOptions): Promise<Buffer> {
  const config: Array<readonly [string, string]> = [...HARDENED_CONFIG];
  if (options.auth) config.push([`http.${options.auth.origin}.extraHeader`, options.auth.header]);
  const env: Record<string, string> = {
    PATH: options.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: options.home,
    XDG_CONFIG_HOME: options.home,
    LANG: 'C',
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ATTR_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_ALLOW_PROTOCOL: 'file:https:http',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([key, value], index) => [
        [`GIT_CONFIG_KEY_${index}`, key],
        [`GIT_CONFIG_VALUE_${index}`, value],
      ]),
    ),
    ...(options.gitDir ? { GIT_DIR: options.gitDir } : {}),
    ...(options.workTree ? { GIT_WORK_TREE: options.workTree } : {}),
    ...(options.indexFile ? { GIT_INDEX_FILE: options.indexFile } : {}),
    ...options.env,
  };
  const maxStdoutBytes = options.maxStdoutBytes ?? DEFAULT_GIT_STDOUT_BYTES;
  const outcome = await runProcess('git', args, {
    cwd: options.cwd,
    env,
    timeoutMs: options.timeoutMs ?? 10 * 60_000,
    input: options.input,
    maxStdoutBytes,
    stderrTailBytes: 16 * 1024,
  });
  const subcommand = args.find((arg) => !arg.startsWith('-')) ?? 'git';
  if (outcome.exitCode !== 0) {
    const stderr = outcome.timedOut
      ? `timed out after ${outcome.durationMs} ms\n${outcome.stderr}`
      : outcome.stderr;
    throw new GitError(subcommand, outcome.exitCode, stderr);
  }
  if (outcome.stdoutTruncated) throw new GitOutputTruncatedError(subcommand, maxStdoutBytes);
  return outcome.stdout;
}

/** `runGit` returning trimmed text. */
export async function runGitText(args: readonly string[], options: GitOptions): Promise<string> {
  return (await runGit(args, options)).toString('utf8').trim();
}

/**
 * git wrote more to stdout than the caller's limit, so what was kept is only a head. Stderr is
 * not checked: it only ever explains a failure, and its tail is what matters there.
 */
export class GitOutputTruncatedError extends BugbotError {
  constructor(
    readonly subcommand: string,
    readonly limitBytes: number,
  ) {
    super(
      `git ${subcommand} wrote more than ${limitBytes} bytes to stdout; refusing to use a partial output`,
    );
  }
}

function firstLines(text: string): string {
  return text.trim().split('\n').slice(0, 4).join(' | ').slice(0, 600);
}
