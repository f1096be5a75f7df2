import { readdir, readFile } from 'node:fs/promises';

/**
 * The processes running under given user ids, from `/proc`: `Uid:` lists the real, effective,
 * saved and filesystem ids; a process counts when any of them matches. Zombies (already dead,
 * waiting to be reaped, holding no memory) and processes that vanish while we look are left out.
 */
export async function listProcessesOf(uids: readonly number[]): Promise<number[]> {
  const wanted = new Set(uids);
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  // A few hundred small reads; in batches so a crowded machine does not open them all at once.
  for (let index = 0; index < pids.length; index += 64) {
    const batch = pids.slice(index, index + 64);
    const statuses = await Promise.all(
      batch.map((pid) => readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')),
    );
    statuses.forEach((status, position) => {
      if (status === '' || /^State:\s+[ZX]/m.test(status)) return;
      const ids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
      if (ids?.slice(1).some((id) => wanted.has(Number(id)))) found.push(batch[position]!);
    });
  }
  return found;
}
