import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunner } from '../../fargate-runner/build.js';
import {
  createAnthropicStandIn,
  readLastToolResults,
  scriptedAgent,
  textTurn,
  toolUseTurn,
} from '../../local/stand-ins/anthropic-stand-in.js';
import { fixResultSchema } from '../../shared/jobs/job-schemas.js';
import { createFixtureOrigin, FIXED_CART, type FixtureOrigin } from '../support/git-fixtures.js';
import { serveStandIn } from '../support/serve-stand-in.js';
import { buildJobSpec, createTempDir, TEST_ANTHROPIC_KEY } from './runner-support.js';

/**
 * The bundle the image runs (`node main.mjs`), built by `fargate-runner/build.ts`: it must find
 * its hook beside itself and work without tsx or the repository's node_modules for its own code.
 */

let origin: FixtureOrigin;
let temp: Awaited<ReturnType<typeof createTempDir>>;
let dist: string;

beforeAll(async () => {
  origin = await createFixtureOrigin();
  temp = await createTempDir('bugbot-bundle-test-');
  dist = join(temp.path, 'dist');
  await buildRunner(dist);
});

afterAll(async () => {
  await temp.cleanup();
  await origin.cleanup();
});

describe('the bundled runner', () => {
  it('runs the real CLI with its bundled hook: refuses package.json, pushes the fix', async () => {
    const workspace = join(temp.path, 'run', 'workspace');
    const anthropic = createAnthropicStandIn({
      scripts: [
        {
          name: 'agent',
          match: { tool: 'Write' },
          respond: scriptedAgent([
            toolUseTurn('Read', { file_path: join(workspace, 'package.json') }),
            toolUseTurn('Write', { file_path: join(workspace, 'package.json'), content: '{}\n' }),
            toolUseTurn('Read', { file_path: join(workspace, 'src/cart.js') }),
            toolUseTurn('Write', { file_path: join(workspace, 'src/cart.js'), content: FIXED_CART }),
            textTurn('Fixed the loop start.'),
          ]),
        },
      ],
    });
    const served = await serveStandIn(anthropic);
    try {
      const jobPath = join(temp.path, 'job.json');
      const resultPath = join(temp.path, 'result.json');
      await writeFile(jobPath, JSON.stringify(buildJobSpec(origin)));
      const exitCode = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            join(dist, 'main.mjs'),
            '--job',
            jobPath,
            '--result',
            resultPath,
            '--work-dir',
            join(temp.path, 'run'),
          ],
          {
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              ANTHROPIC_API_KEY: TEST_ANTHROPIC_KEY,
              ANTHROPIC_BASE_URL: served.baseUrl,
            },
            stdio: 'ignore',
          },
        );
        child.once('error', reject);
        child.once('close', resolve);
      });
      const result = fixResultSchema.parse(JSON.parse(await readFile(resultPath, 'utf8')));
      expect(exitCode).toBe(0);
      expect(result).toMatchObject({
        status: 'pushed',
        changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
      });
      const refusals = anthropic
        .messageRequests()
        .flatMap((request) => readLastToolResults(request.request).map((toolResult) => toolResult.text));
      expect(refusals.join('\n')).toContain('edit-guard-hook.mjs');
      expect(refusals.join('\n')).toContain('Editing package.json is not allowed (outside the allowlist)');
      expect(await origin.readFile('bugbot/job-test-1', 'src/cart.js')).toBe(FIXED_CART);
    } finally {
      await served.close();
    }
  });
});
