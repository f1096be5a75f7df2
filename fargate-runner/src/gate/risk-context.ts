import { builtinModules } from 'node:module';
import type { AddedLine } from '../../../shared/domain/allowlist-gate.js';
import {
  listAddedHosts,
  listAddedPackages,
  type RiskScanFile,
  type RiskScanInput,
} from '../../../shared/domain/fix-risks.js';
import { GitError, runGit, runGitText } from '../git/git-command.js';
import { type RunLayout, runnerGitOptions } from '../git/workspace.js';

/**
 * The facts about the base tree `findFixRisks` needs, read from the runner's repository only when
 * the change makes them matter: which of the hosts the change names the base tree already names
 * in URLs (`git grep` over the base tree), and — when the change imports packages — what the base
 * tree's package.json files declare and which names resolve inside the repository.
 */

const MAX_HOSTS = 50;
const MAX_MANIFESTS = 200;

export async function gatherRiskInput(
  layout: RunLayout,
  baseTree: string,
  addedLines: ReadonlyMap<string, readonly AddedLine[]>,
  allowlist: readonly string[],
): Promise<RiskScanInput> {
  const files: RiskScanFile[] = [...addedLines].map(([path, lines]) => ({ path, addedLines: lines }));
  const hosts = listAddedHosts(files).slice(0, MAX_HOSTS);
  const packages = listAddedPackages(files);
  const [baseHosts, manifests, localNames] = await Promise.all([
    hosts.length > 0 ? findHostsInTree(layout, baseTree, hosts) : Promise.resolve([]),
    packages.length > 0 ? readManifests(layout, baseTree) : Promise.resolve([]),
    packages.length > 0 ? listLocalNames(layout, baseTree, allowlist) : Promise.resolve([]),
  ]);
  return { files, baseHosts, manifests, builtinModules, localNames };
}

/** Which of `hosts` appear as `//host` (a URL's authority) somewhere in the base tree's text files. */
async function findHostsInTree(layout: RunLayout, tree: string, hosts: readonly string[]): Promise<string[]> {
  const alternatives = hosts.map((host) => host.replace(/[.[\]]/g, '\\$&')).join('|');
  let output: string;
  try {
    output = (
      await runGit(
        ['grep', '-I', '-h', '-o', '-i', '-E', '-e', `//(${alternatives})([^a-z0-9.-]|$)`, tree, '--'],
        runnerGitOptions(layout),
      )
    ).toString('utf8');
  } catch (error) {
    // git grep exits 1 when nothing matches.
    if (error instanceof GitError && error.exitCode === 1) return [];
    throw error;
  }
  const found = new Set<string>();
  const wanted = new Set(hosts);
  for (const line of output.split('\n')) {
    const host = /^\/\/([^/?#:"'`\s)]*?)(?:[^a-z0-9.-]|$)/i.exec(line)?.[1]?.toLowerCase();
    if (host && wanted.has(host)) found.add(host);
  }
  return [...found];
}

/** Every package.json of the base tree (outside node_modules) with the names it declares. */
async function readManifests(
  layout: RunLayout,
  tree: string,
): Promise<Array<{ dir: string; dependencies: string[] }>> {
  const runner = runnerGitOptions(layout);
  const paths = (await runGit(['ls-tree', '-r', '-z', '--name-only', tree], runner))
    .toString('utf8')
    .split('\0')
    .filter((path) => /(?:^|\/)package\.json$/.test(path) && !path.split('/').includes('node_modules'))
    .slice(0, MAX_MANIFESTS);
  const manifests: Array<{ dir: string; dependencies: string[] }> = [];
  const workspaceNames: string[] = [];
  for (const path of paths) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(await runGitText(['cat-file', 'blob', `${tree}:${path}`], runner)) as Record<
        string,
        unknown
      >;
    } catch {
      continue;
    }
    const dependencies = [
      'dependencies',
      'devDependencies',
      'peerDependencies',
      'optionalDependencies',
    ].flatMap((field) => {
      const value = json[field];
      return value && typeof value === 'object' ? Object.keys(value) : [];
    });
    if (typeof json.name === 'string') workspaceNames.push(json.name);
    manifests.push({ dir: path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '', dependencies });
  }
  // A monorepo's own packages import each other by name.
  return [...manifests, { dir: '', dependencies: workspaceNames }];
}

/** Entries at the root and directly under each allowlisted directory (what a `baseUrl` resolves). */
async function listLocalNames(
  layout: RunLayout,
  tree: string,
  allowlist: readonly string[],
): Promise<string[]> {
  const runner = runnerGitOptions(layout);
  const names = new Set<string>();
  for (const dir of ['', ...allowlist.map((entry) => entry.replace(/\/+$/, ''))]) {
    let listing: string;
    try {
      listing = (
        await runGit(['ls-tree', '-z', '--name-only', dir ? `${tree}:${dir}` : tree], runner)
      ).toString('utf8');
    } catch {
      continue; // The directory does not exist in the base.
    }
    for (const name of listing.split('\0').filter(Boolean)) {
      names.add(name);
      names.add(name.replace(/\.[^.]+$/, ''));
    }
  }
  return [...names];
}
