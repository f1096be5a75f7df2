import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Forks a TypeScript entry in its own Node process (tsx as the loader, which costs only at
 * import), with stdout discarded (handler logs) and stderr kept for when it fails.
 */
export function forkTypeScript(entry: URL, env: Record<string, string>): ChildProcess {
  return fork(entry, [], {
    execArgv: ['--no-warnings', '--import', tsxLoader],
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
}

/** The child's first IPC message; rejects with its stderr if it exits first. */
export function firstMessage<T>(child: ChildProcess, timeoutMs: number): Promise<T> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child sent nothing in ${timeoutMs} ms: ${stderr}`)),
      timeoutMs,
    );
    child.once('message', (message) => {
      clearTimeout(timer);
      const failure = (message as { error?: string }).error;
      if (failure !== undefined) reject(new Error(failure));
      else resolve(message as T);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code}) before answering: ${stderr}`));
    });
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  const timer = setTimeout(() => child.kill('SIGTERM'), 2000);
  await exited;
  clearTimeout(timer);
}
