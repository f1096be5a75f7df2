import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  SERVICE_SECRET_FIELDS,
  SERVICE_TOKEN_FIELDS,
  type ServiceSecretField,
  WEBHOOK_SECRET_FIELDS,
} from '../shared/config/service-secret-fields.js';
import { isStandardWebhookSecret, MIN_BEARER_TOKEN_LENGTH } from '../shared/config/webhook-ingress-config.js';
import {
  awsClientConfig,
  type CliIo,
  defineCli,
  type Env,
  parseCli,
  runWhenMain,
  UsageError,
} from './cli-support.js';

const USAGE = `Usage: npm run secrets -- check [--webhook] [--file <path>] [--secret-id <arn>] [--json]

Says which of bugbot's secret fields are set, missing or malformed — never their values — and
exits 1 when bugbot cannot run with them. A deployment has two secrets: the service tokens
(ServiceSecretsArn) and the bug-report webhook's credentials (WebhookSecretArn); check both.

  (default)          the deployed service secret: SECRETS_ARN (the stack output ServiceSecretsArn)
                     read with Secrets Manager, using the usual AWS credentials and AWS_REGION;
                     exits 1 when a required token is missing or malformed
  --webhook          the webhook secret instead: WEBHOOK_SECRET_ARN (the stack output
                     WebhookSecretArn); exits 1 unless at least one webhook credential is set
                     and well-formed, or when it holds a service token
  --secret-id <arn>  another secret
  --file <path>      a local config: a secret's JSON, or a .env file (DISCORD_BOT_TOKEN=…, the
                     variables the local stack reads; checked for both secrets' fields)
  --json             machine-readable`;

/**
 * What is being checked: the service secret, the webhook secret, or a local stack's .env, which
 * holds both secrets' variables side by side.
 */
export type SecretScope = 'service' | 'webhook' | 'local';

const SCOPE_FIELDS: Readonly<Record<SecretScope, readonly ServiceSecretField[]>> = {
  service: SERVICE_TOKEN_FIELDS,
  webhook: WEBHOOK_SECRET_FIELDS,
  local: SERVICE_SECRET_FIELDS,
};

type Need = 'required' | 'webhook' | 'optional';

interface FieldRule {
  /** The environment variable the local stack and the Lambdas read instead of the field. */
  readonly env: string;
  readonly need: Need;
  readonly usedFor: string;
  /** A problem with the value's shape, described without the value. */
  readonly check?: (value: string) => string | undefined;
}

/**
 * What each field of either secret is for and whether bugbot can run without it. Typed by
 * SERVICE_SECRET_FIELDS, so a new field does not compile until someone decides this.
 */
export const FIELD_RULES: Readonly<Record<ServiceSecretField, FieldRule>> = {
  discordBotToken: {
    env: 'DISCORD_BOT_TOKEN',
    need: 'required',
    usedFor: 'answers, bug cards and threads in Discord',
  },
  linearApiKey: { env: 'LINEAR_API_KEY', need: 'required', usedFor: 'Linear issues and context comments' },
  posthogApiKey: {
    env: 'POSTHOG_API_KEY',
    need: 'required',
    usedFor: 'session recordings (a PostHog personal API key)',
  },
  anthropicApiKey: { env: 'ANTHROPIC_API_KEY', need: 'required', usedFor: 'triage and fixes (Claude)' },
  githubToken: {
    env: 'GITHUB_TOKEN',
    need: 'optional',
    usedFor: 'fixes as pull requests, GitHub issues and code search',
  },
  bugReportWebhookSecret: {
    env: 'BUG_REPORT_WEBHOOK_SECRET',
    need: 'webhook',
    usedFor: 'Standard Webhooks signatures of bug reports',
    check: (value) => (isStandardWebhookSecret(value) ? undefined : 'must be whsec_ followed by base64'),
  },
  bugReportBearerToken: {
    env: 'BUG_REPORT_BEARER_TOKEN',
    need: 'webhook',
    usedFor: 'the bearer header of Supabase database webhooks',
    check: (value) =>
      value.length >= MIN_BEARER_TOKEN_LENGTH
        ? undefined
        : `must be at least ${MIN_BEARER_TOKEN_LENGTH} characters`,
  },
};

export type FieldState = 'set' | 'missing' | 'invalid';

export interface SecretsReport {
  readonly source: string;
  readonly fields: readonly {
    readonly field: ServiceSecretField;
    readonly env: string;
    readonly need: Need;
    readonly state: FieldState;
    readonly problem?: string;
  }[];
  /** Names the source has that bugbot does not read. */
  readonly unknown: readonly string[];
  readonly problems: readonly string[];
  /** Worth a word but not stopping bugbot (e.g. webhook credentials left in the service secret). */
  readonly notes: readonly string[];
  readonly ok: boolean;
}

export const main = defineCli(USAGE, async (argv, env, io) => {
  const { values, positionals } = parseCli(argv, {
    file: { type: 'string' },
    'secret-id': { type: 'string' },
    webhook: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (positionals[0] !== 'check' || positionals.length > 1) throw new UsageError('say check');
  if (values.file && values['secret-id']) throw new UsageError('choose --file or --secret-id, not both');

  const loaded = values.file
    ? readConfigFile(values.file)
    : await readDeployedSecret(env, values['secret-id'], values.webhook);
  const scope: SecretScope = values.webhook ? 'webhook' : loaded.byEnv ? 'local' : 'service';
  const report = checkSecrets(loaded.source, loaded.values, loaded.byEnv, scope);
  printReport(report, values.json, io);
  return report.ok ? 0 : 1;
});

interface LoadedConfig {
  readonly source: string;
  readonly values: Readonly<Record<string, unknown>>;
  /** True for .env files: fields are looked up by their environment variable. */
  readonly byEnv: boolean;
}

function readConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (path.endsWith('.json') || text.trimStart().startsWith('{')) {
    return { source: path, values: parseSecretJson(text, path), byEnv: false };
  }
  return { source: path, values: parseEnv(text), byEnv: true };
}

async function readDeployedSecret(
  env: Env,
  secretId: string | undefined,
  webhook: boolean,
): Promise<LoadedConfig> {
  const variable = webhook ? 'WEBHOOK_SECRET_ARN' : 'SECRETS_ARN';
  const id = secretId ?? env[variable];
  if (!id)
    throw new UsageError(`${variable} is not set: pass --secret-id <arn>, or --file for a local config`);
  const client = new SecretsManagerClient(awsClientConfig(env, 'SECRETS_MANAGER'));
  try {
    const output = await client.send(new GetSecretValueCommand({ SecretId: id }));
    if (output.SecretString === undefined) throw new Error(`${id} has no SecretString (a binary secret?)`);
    return { source: id, values: parseSecretJson(output.SecretString, id), byEnv: false };
  } finally {
    client.destroy();
  }
}

/** The secret's JSON object; a parse failure is reported without echoing any of the text. */
function parseSecretJson(text: string, source: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON (each bugbot secret is one JSON object of fields)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${source} is not a JSON object of fields`);
  }
  return parsed as Record<string, unknown>;
}

/** Pure: what is set, missing or malformed, and whether bugbot can run with it. */
export function checkSecrets(
  source: string,
  values: Readonly<Record<string, unknown>>,
  byEnv: boolean,
  scope: SecretScope = byEnv ? 'local' : 'service',
): SecretsReport {
  const nameOf = (field: ServiceSecretField) => (byEnv ? FIELD_RULES[field].env : field);
  const isBlank = (value: unknown) =>
    value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  const checked = SCOPE_FIELDS[scope];
  const fields = checked.map((field) => {
    const rule = FIELD_RULES[field];
    const value = values[nameOf(field)];
    const base = { field, env: rule.env, need: rule.need };
    if (isBlank(value)) return { ...base, state: 'missing' as const };
    if (typeof value !== 'string') return { ...base, state: 'invalid' as const, problem: 'must be a string' };
    const problem = rule.check?.(value);
    return problem ? { ...base, state: 'invalid' as const, problem } : { ...base, state: 'set' as const };
  });

  const problems: string[] = [];
  const notes: string[] = [];
  for (const entry of fields) {
    const name = nameOf(entry.field);
    if (entry.state === 'invalid') problems.push(`${name} ${entry.problem}`);
    if (entry.state === 'missing' && entry.need === 'required') problems.push(`${name} is required`);
  }
  const webhook = fields.filter((entry) => entry.need === 'webhook');
  if (webhook.length > 0 && !webhook.some((entry) => entry.state === 'set')) {
    const names = webhook.map((entry) => nameOf(entry.field)).join(' or ');
    problems.push(`set ${names}: the bug-report webhook refuses every delivery without one`);
  }

  // The other secret's fields: the service secret's seeded template still lists the webhook
  // fields (see service-secret-fields.ts), so they are expected there, but no longer read.
  const elsewhere = SERVICE_SECRET_FIELDS.filter((field) => !checked.includes(field));
  for (const field of elsewhere) {
    if (isBlank(values[nameOf(field)])) continue;
    if (scope === 'webhook') {
      problems.push(
        `${nameOf(field)} does not belong in the webhook secret: the public webhook Lambda can read it; remove it`,
      );
    } else {
      notes.push(
        `${field} is set here but the webhook reads it from the webhook secret (WebhookSecretArn) now: move it there and clear it here`,
      );
    }
  }
  // The local stack's .env holds other settings too; only a secret's stray keys are worth a word.
  const known = new Set<string>(SERVICE_SECRET_FIELDS.map(nameOf));
  const unknown = byEnv ? [] : Object.keys(values).filter((key) => !known.has(key));
  return { source, fields, unknown, problems, notes, ok: problems.length === 0 };
}

function printReport(report: SecretsReport, json: boolean, io: CliIo): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  io.out(`${report.source}:`);
  const label: Record<FieldState, string> = { set: 'set', missing: 'missing', invalid: 'INVALID' };
  const nameWidth = Math.max(...report.fields.map((entry) => entry.field.length + entry.env.length + 3));
  for (const entry of report.fields) {
    const rule = FIELD_RULES[entry.field];
    const state = entry.state === 'missing' && entry.need === 'required' ? 'MISSING' : label[entry.state];
    const note =
      entry.state === 'invalid'
        ? entry.problem
        : entry.state === 'missing'
          ? `${entry.need === 'required' ? 'required' : entry.need === 'webhook' ? 'one of the two webhook credentials' : 'optional'}: ${rule.usedFor}`
          : rule.usedFor;
    io.out(`  ${state.padEnd(7)}  ${`${entry.field} (${entry.env})`.padEnd(nameWidth)}  ${note}`);
  }
  for (const key of report.unknown)
    io.out(`  unknown  ${key.padEnd(nameWidth)}  not a bugbot field; ignored`);
  for (const note of report.notes) io.out(`note: ${note}`);
  if (report.ok) {
    io.out('ok: bugbot can run with these');
    return;
  }
  io.out(`${report.problems.length} problem(s):`);
  for (const problem of report.problems) io.out(`  - ${problem}`);
}

runWhenMain(import.meta.url, main);
