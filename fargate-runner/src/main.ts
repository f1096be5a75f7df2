import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { loadConfig } from '../../shared/config/load-config.js';
import { collectSecretValues, redactSecrets } from '../../shared/domain/allowlist-gate.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { type FixJobSpec, parseFixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import { type FixResult, fixResultSchema } from '../../shared/jobs/job-schemas.js';
import { locateClaudeBin } from './agent/run-claude.js';
import { exitCodeFor, runFix } from './run-fix.js';

/**
 * The fix runner's composition root.
 *
 *   npx tsx fargate-runner/src/main.ts --job job.json --result result.json [--work-dir DIR]
 *   JOB_ID=… TABLE_NAME=… JOBS_QUEUE_URL=… node main.mjs          (Fargate)
 *
 * Exit code 0 for pushed or no_changes, 2 for rejected, 1 for failed.
 */

const runnerEnvSchema = z.object({
  ANTHROPIC_API_KEY: z.string().min(1, 'is required'),
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_MODEL: z.string().min(1).optional(),
  CLAUDE_BIN: z.string().min(1).optional(),
  GITHUB_TOKEN: z.string().min(1).optional(),
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
});
type RunnerEnv = z.infer<typeof runnerEnvSchema>;

const fargateEnvSchema = z.object({
  JOB_ID: z.string().min(1),
  TABLE_NAME: z.string().min(1, 'is required'),
  JOBS_QUEUE_URL: z.url(),
});

function log(message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'info', message, ...fields, time: new Date().toISOString() })}\n`,
  );
}

function failedResult(jobId: string, error: string, branch = ''): FixResult {
  return {
    jobId,
    status: 'failed',
    branch,
    changedFiles: [],
    rejected: [],
    summary: '',
    costUsd: 0,
    risks: [],
    error,
  };
}

async function runSpec(spec: FixJobSpec, env: RunnerEnv, workDir: string | undefined): Promise<FixResult> {
  const secretValues = collectSecretValues(process.env);
  const { result } = await runFix(spec, {
    claudeBin: locateClaudeBin(env.CLAUDE_BIN),
    anthropicApiKey: env.ANTHROPIC_API_KEY,
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
    model: env.ANTHROPIC_MODEL,
    githubToken: env.GITHUB_TOKEN,
    secretValues,
    path: env.PATH,
    workDir,
    log: (message, fields) => log(message, { jobId: spec.jobId, ...fields }),
  });
  return fixResultSchema.parse(result);
}

function loadRunnerEnv(): { ok: true; env: RunnerEnv } | { ok: false; error: string } {
  try {
    return { ok: true, env: loadConfig(runnerEnvSchema, process.env) };
  } catch (error) {
    return { ok: false, error: error instanceof ConfigError ? error.message : 'invalid configuration' };
  }
}

async function runLocal(jobPath: string, resultPath: string, workDir: string | undefined): Promise<number> {
  let result: FixResult;
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(jobPath, 'utf8'));
  } catch (error) {
    raw = undefined;
    result = failedResult('unknown', `could not read the job file: ${(error as Error).message}`);
  }
  if (raw !== undefined) {
    const parsed = parseFixJobSpec(raw, 'unknown');
    const env = loadRunnerEnv();
    if (!parsed.ok) result = failedResult(parsed.jobId, parsed.error, parsed.branch);
    else if (!env.ok) result = failedResult(parsed.spec.jobId, env.error, parsed.spec.branch);
    else result = await runSpec(parsed.spec, env.env, workDir);
  }
  // Nothing secret is in it, but it is the runner's: not for the sandbox users to read.
  await writeFile(resultPath, `${JSON.stringify(result!, null, 2)}\n`, { mode: 0o600 });
  log('fix run finished', { jobId: result!.jobId, status: result!.status });
  return exitCodeFor(result!.status);
}

async function runFargate(): Promise<number> {
  const fargate = loadConfig(fargateEnvSchema, process.env);
  // Loaded only here: the local mode and the hook need no AWS SDK.
  const [{ DynamoDBClient }, { GetCommand }, { SQSClient }, { createDocumentClient }, { SqsJobQueue }] =
    await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('@aws-sdk/lib-dynamodb'),
      import('@aws-sdk/client-sqs'),
      import('../../shared/adapters/dynamodb/document-client.js'),
      import('../../shared/adapters/aws-sqs/sqs-job-queue.js'),
    ]);
  const doc = createDocumentClient(new DynamoDBClient({}));
  const queue = new SqsJobQueue(
    new SQSClient({
      useQueueUrlAsEndpoint: false,
      requestHandler: { connectionTimeout: 2000, requestTimeout: 5000 },
    }),
    fargate.JOBS_QUEUE_URL,
  );

  let result: FixResult;
  try {
    const item = await doc.send(
      new GetCommand({
        TableName: fargate.TABLE_NAME,
        Key: { pk: `JOB#${fargate.JOB_ID}`, sk: 'JOB' },
        ConsistentRead: true,
      }),
    );
    const env = loadRunnerEnv();
    if (!item.Item) result = failedResult(fargate.JOB_ID, 'no job spec stored for this job id');
    else {
      const parsed = parseFixJobSpec(item.Item.spec, fargate.JOB_ID);
      if (!parsed.ok) result = failedResult(parsed.jobId, parsed.error, parsed.branch);
      else if (parsed.spec.jobId !== fargate.JOB_ID) {
        result = failedResult(fargate.JOB_ID, 'the stored spec belongs to another job', parsed.spec.branch);
      } else if (!env.ok) result = failedResult(fargate.JOB_ID, env.error, parsed.spec.branch);
      else result = await runSpec(parsed.spec, env.env, undefined);
    }
  } catch (error) {
    result = failedResult(fargate.JOB_ID, `could not load the job spec: ${(error as Error).name}`);
  }

  await queue.send({
    v: 1,
    kind: 'fix.result',
    idempotencyKey: `fix-result:${result.jobId}`,
    receivedAt: new Date().toISOString(),
    result,
  });
  log('fix run finished', { jobId: result.jobId, status: result.status });
  return exitCodeFor(result.status);
}

async function main(): Promise<number> {
  // What git creates in runner.git must be readable by the agent's group through that directory
  // (the only gate; README "The sandbox"), whatever umask the container started with.
  process.umask(0o022);
  const { values } = parseArgs({
    options: { job: { type: 'string' }, result: { type: 'string' }, 'work-dir': { type: 'string' } },
    strict: true,
  });
  if (values.job || values.result) {
    if (!values.job || !values.result) {
      process.stderr.write('usage: main.ts --job job.json --result result.json [--work-dir DIR]\n');
      return 1;
    }
    return runLocal(values.job, values.result, values['work-dir']);
  }
  if (process.env.JOB_ID) return runFargate();
  process.stderr.write('usage: main.ts --job job.json --result result.json, or set JOB_ID (Fargate)\n');
  return 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = redactSecrets(
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      collectSecretValues(process.env),
    );
    process.stderr.write(
      `${JSON.stringify({ level: 'error', message: 'fix runner crashed', error: message })}\n`,
    );
    process.exitCode = 1;
  },
);
