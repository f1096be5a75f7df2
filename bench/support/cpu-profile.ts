import { Session } from 'node:inspector/promises';

export interface CpuShare {
  readonly name: string;
  readonly ms: number;
  /** Of the busy (non-idle) samples. */
  readonly share: number;
}

export interface Profiled<T> {
  readonly result: T;
  readonly busyMs: number;
  /** Event loop waiting (epoll): for I/O, timers, or for the CPU the rest of the machine holds. */
  readonly idleMs: number;
  readonly shares: CpuShare[];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

/**
 * Runs `work` under V8's sampling profiler (this process only) and attributes self time to the
 * package or first-party folder whose code was on top of the stack: what the CPU was busy with.
 */
export async function profileWhile<T>(work: () => Promise<T>): Promise<Profiled<T>> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
    let result: T;
    let profile: Profile;
    try {
      result = await work();
    } finally {
      ({ profile } = (await session.post('Profiler.stop')) as { profile: Profile });
    }
    const bucketOf = new Map(profile.nodes.map((node) => [node.id, bucket(node.callFrame)]));
    const totals = new Map<string, number>();
    const samples = profile.samples ?? [];
    const deltas = profile.timeDeltas ?? [];
    for (let index = 0; index < samples.length; index += 1) {
      const name = bucketOf.get(samples[index] ?? -1) ?? 'unknown';
      totals.set(name, (totals.get(name) ?? 0) + (deltas[index] ?? 0) / 1000);
    }
    const idleMs = totals.get('(idle)') ?? 0;
    totals.delete('(idle)');
    const busyMs = [...totals.values()].reduce((sum, ms) => sum + ms, 0);
    const shares = [...totals]
      .map(([name, ms]) => ({ name, ms, share: busyMs > 0 ? ms / busyMs : 0 }))
      .sort((a, b) => b.ms - a.ms);
    return { result, busyMs, idleMs, shares };
  } finally {
    session.disconnect();
  }
}

function bucket(frame: { functionName: string; url: string }): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'garbage collection';
    return 'V8 / native (no script)';
  }
  if (url.startsWith('node:')) return 'Node internals (http, net, streams, crypto)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (module) return module;
  const local = /\/(infra\/local\/[^/]+|shared\/[^/]+|lambdas\/[^/]+|bench|test\/[^/]+)\//.exec(url)?.[1];
  return local ?? url.replace(/^file:\/\//, '');
}
