import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';

/**
 * What the operator scripts share: where they print (injectable, so tests read the output
 * instead of a terminal), how a usage mistake is told apart from a failure, and how a module
 * knows it was started as a program (`npm run …`) rather than imported by a test.
 */

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A script's whole run: arguments and environment in, exit code out. */
export type CliMain = (argv: readonly string[], env: Env, io: CliIo) => Promise<number>;

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The operator typed something the script cannot act on; exit code 2 with the usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Wraps a script's run: `--help` prints the usage, a UsageError prints it after the problem
 * (exit 2), any other failure prints one line (exit 1) — no stack, no request dump.
 */
export function defineCli(usage: string, run: CliMain): CliMain {
  return async (argv, env, io) => {
    if (argv.includes('--help') || argv.includes('-h')) {
      io.out(usage);
      return 0;
    }
    try {
      return await run(argv, env, io);
    } catch (error) {
      if (error instanceof UsageError) {
        io.err(`${error.message}\n\n${usage}`);
        return 2;
      }
      io.err(`failed: ${describeError(error)}`);
      return 1;
    }
  };
}

/** Runs `main` when `moduleUrl` is the program node was started with (not when imported). */
export function runWhenMain(moduleUrl: string, main: CliMain): void {
  const entry = process.argv[1];
  if (!entry || realpathSync(entry) !== realpathSync(fileURLToPath(moduleUrl))) return;
  void main(process.argv.slice(2), process.env, processIo).then((code) => {
    process.exitCode = code;
  });
}

/** The error's name and message, and its cause's; never a stack or a request dump. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause: ${error.cause.name}: ${error.cause.message})` : '';
  return `${error.name}: ${error.message}${cause}`;
}

/** `node:util` parseArgs (strict, positionals allowed), its parse errors turned into usage errors. */
export function parseCli<const T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The local stack's base URL: LOCAL_STACK_URL, else http://127.0.0.1:$PORT (3000). */
export function localStackUrl(env: Env): string {
  return (env.LOCAL_STACK_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`).replace(/\/+$/, '');
}

/**
 * An AWS client's region, endpoint and keys from the given environment (the process's when run
 * as a script), so a test's environment decides them as the shell's would. Without keys the
 * SDK's own chain applies (profiles, SSO, roles).
 */
export function awsClientConfig(env: Env, service: 'SQS' | 'SECRETS_MANAGER') {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  return {
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  };
}
