import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  OPTIONAL_SERVICE_SECRET_FIELDS,
  SERVICE_SECRET_FIELDS,
  SERVICE_TOKEN_FIELDS,
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

const USAGE = `Usage: npm run secrets -- check [--secret <which>] [--file <path>] [--secret-id <arn>]
                              [-c <setting>=<value> ...] [--cdk-json <path>] [--json]

Says which fields of one of bugbot's secrets are set, missing or malformed — never their values —
and exits 1 when bugbot cannot run with them. A deployment has up to five secrets; check each:

  --secret service         (default) the service tokens: SECRETS_ARN (stack output
                           ServiceSecretsArn); also bugStatusWebhookSecret, required when the
                           deployment sets bugStatusWebhookUrl
  --secret webhook         the bug-report webhook's credentials: WEBHOOK_SECRET_ARN
                           (WebhookSecretArn); one of the two must be set (--webhook: the same)
  --secret github-webhook  githubWebhookSecret: GITHUB_WEBHOOK_SECRET_ARN (GitHubWebhookSecretArn)
  --secret linear-webhook  linearWebhookSecret: LINEAR_WEBHOOK_SECRET_ARN (LinearWebhookSecretArn)
  --secret push-token      the fix runner's githubPushToken: FIX_PUSH_TOKEN_SECRET_ARN
                           (FixPushTokenSecretArn; the stack creates it only with fixPushRepo)

  --secret-id <arn>        read that secret instead of the variable's
  --file <path>            a local config: a secret's JSON, or a .env file (DISCORD_BOT_TOKEN=…,
                           the variables the local stack reads; checked for all of them)
  -c <setting>=<value>     a deployment setting, as given to cdk deploy (bugStatusWebhookUrl and
                           fixPushRepo decide what is required); repeatable
  --cdk-json <path>        where else the settings are: the context of cdk.json (default ./cdk.json)
  --json                   machine-readable

Secrets Manager is read with the usual AWS credentials and AWS_REGION.`;

/** Which secret is being checked; `local` is a local stack's .env, which holds all their variables. */
export type SecretScope =
  | 'service'
  | 'webhook'
  | 'github-webhook'
  | 'linear-webhook'
  | 'push-token'
  | 'local';
type DeployedScope = Exclude<SecretScope, 'local'>;

/** The secrets the GitHub and Linear webhooks read (ServiceSecrets in infra), and the runner's push token's. */
const GITHUB_WEBHOOK_FIELDS = ['githubWebhookSecret'] as const;
const LINEAR_WEBHOOK_FIELDS = ['linearWebhookSecret'] as const;
const PUSH_TOKEN_FIELDS = ['githubPushToken'] as const;

/** Every field of every secret the stack creates (test/infra checks this against the template). */
export const SECRET_FIELDS = [
  ...SERVICE_SECRET_FIELDS,
  ...OPTIONAL_SERVICE_SECRET_FIELDS,
  ...GITHUB_WEBHOOK_FIELDS,
  ...LINEAR_WEBHOOK_FIELDS,
  ...PUSH_TOKEN_FIELDS,
] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

interface DeployedSecret {
  /** The environment variable this script reads its ARN from. */
  readonly variable: string;
  /** The stack output that prints its ARN. */
  readonly output: string;
  /** How messages name it. */
  readonly label: string;
  /** Who reads it. */
  readonly reader: string;
  readonly fields: readonly SecretField[];
  /** Read by an internet-facing Lambda: nothing else may be in it. */
  readonly public: boolean;
}

/** The secrets of infra/constructs/service-secrets.ts and fix-runner.ts, by scope. */
export const DEPLOYED_SECRETS: Readonly<Record<DeployedScope, DeployedSecret>> = {
  service: {
    variable: 'SECRETS_ARN',
    output: 'ServiceSecretsArn',
    label: 'the service secret (ServiceSecretsArn)',
    reader: 'the processor',
    fields: [...SERVICE_TOKEN_FIELDS, ...OPTIONAL_SERVICE_SECRET_FIELDS],
    public: false,
  },
  webhook: {
    variable: 'WEBHOOK_SECRET_ARN',
    output: 'WebhookSecretArn',
    label: 'the webhook secret (WebhookSecretArn)',
    reader: 'the webhook',
    fields: WEBHOOK_SECRET_FIELDS,
    public: true,
  },
  'github-webhook': {
    variable: 'GITHUB_WEBHOOK_SECRET_ARN',
    output: 'GitHubWebhookSecretArn',
    label: "the GitHub webhook's secret (GitHubWebhookSecretArn)",
    reader: 'the GitHub webhook',
    fields: GITHUB_WEBHOOK_FIELDS,
    public: true,
  },
  'linear-webhook': {
    variable: 'LINEAR_WEBHOOK_SECRET_ARN',
    output: 'LinearWebhookSecretArn',
    label: "the Linear webhook's secret (LinearWebhookSecretArn)",
    reader: 'the Linear webhook',
    fields: LINEAR_WEBHOOK_FIELDS,
    public: true,
  },
  'push-token': {
    variable: 'FIX_PUSH_TOKEN_SECRET_ARN',
    output: 'FixPushTokenSecretArn',
    label: "the fix runner's push token secret (FixPushTokenSecretArn)",
    reader: 'the fix runner',
    fields: PUSH_TOKEN_FIELDS,
    public: false,
  },
};

/** The local stack reads every variable but the runner's push token (it pushes to the sandbox). */
const LOCAL_FIELDS: readonly SecretField[] = SECRET_FIELDS.filter(
  (field) => !(PUSH_TOKEN_FIELDS as readonly string[]).includes(field),
);

const SECRET_SCOPES = Object.keys(DEPLOYED_SECRETS) as DeployedScope[];

/** The deployment settings that change what a secret must hold. */
export interface SecretSettings {
  /** `bugStatusWebhookUrl` is set: the processor signs status events with bugStatusWebhookSecret. */
  readonly bugStatusWebhook: boolean;
  /** `fixPushRepo` is set: the runner pushes with githubPushToken, the processor opens PRs with githubToken. */
  readonly fixPushRepo: boolean;
}

const NO_SETTINGS: SecretSettings = { bugStatusWebhook: false, fixPushRepo: false };

type Need = 'required' | 'webhook' | 'optional';

interface FieldRule {
  /** The environment variable the local stack and the Lambdas read instead of the field, if any. */
  readonly env?: string;
  /** Whether bugbot can run without it, given the deployment settings and what is checked. */
  readonly need: Need | ((settings: SecretSettings, scope: SecretScope) => Need);
  readonly usedFor: string;
  /** A problem with the value's shape, described without the value. */
  readonly check?: (value: string) => string | undefined;
}

const standardWebhookSecret = (value: string) =>
  isStandardWebhookSecret(value) ? undefined : 'must be whsec_ followed by base64';

/**
 * What each field of every secret is for and whether bugbot can run without it. Typed by
 * SECRET_FIELDS, so a new field does not compile until someone decides this.
 */
export const FIELD_RULES: Readonly<Record<SecretField, FieldRule>> = {
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
    // With a fork to push to, the deployer wants fixes, and the processor opens their PRs with it.
    need: (settings) => (settings.fixPushRepo ? 'required' : 'optional'),
    usedFor: 'fixes as pull requests, GitHub issues and code search',
  },
  bugReportWebhookSecret: {
    env: 'BUG_REPORT_WEBHOOK_SECRET',
    need: 'webhook',
    usedFor: 'Standard Webhooks signatures of bug reports',
    check: standardWebhookSecret,
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
  // The processor refuses to start without it when BUG_STATUS_WEBHOOK_URL is set (compose.ts).
  bugStatusWebhookSecret: {
    env: 'BUG_STATUS_WEBHOOK_SECRET',
    need: (settings) => (settings.bugStatusWebhook ? 'required' : 'optional'),
    usedFor: 'signs the status events sent to bugStatusWebhookUrl (whsec_…)',
    check: standardWebhookSecret,
  },
  // Each answers 503 to every delivery until its secret is filled in; locally the stack makes one.
  githubWebhookSecret: {
    env: 'GITHUB_WEBHOOK_SECRET',
    need: (_settings, scope) => (scope === 'local' ? 'optional' : 'required'),
    usedFor: "the GitHub hook's secret (merged and closed fixes, previews)",
  },
  linearWebhookSecret: {
    env: 'LINEAR_WEBHOOK_SECRET',
    need: (_settings, scope) => (scope === 'local' ? 'optional' : 'required'),
    usedFor: "the Linear webhook's signing secret (issues completed or canceled)",
  },
  githubPushToken: {
    need: 'required',
    usedFor: 'the fix runner clones and pushes fix branches to the fixPushRepo fork with it',
  },
};

const needOf = (field: SecretField, settings: SecretSettings, scope: SecretScope): Need => {
  const { need } = FIELD_RULES[field];
  return typeof need === 'function' ? need(settings, scope) : need;
};

export type FieldState = 'set' | 'missing' | 'invalid';

export interface SecretsReport {
  readonly source: string;
  readonly scope: SecretScope;
  readonly fields: readonly {
    readonly field: SecretField;
    readonly env?: string;
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
    secret: { type: 'string' },
    webhook: { type: 'boolean', default: false },
    context: { type: 'string', short: 'c', multiple: true },
    'cdk-json': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals[0] !== 'check' || positionals.length > 1) throw new UsageError('say check');
  if (values.file && values['secret-id']) throw new UsageError('choose --file or --secret-id, not both');
  const chosen = chooseSecret(values.secret, values.webhook);
  const settings = readSettings(values.context ?? [], values['cdk-json']);

  const loaded = values.file
    ? readConfigFile(values.file)
    : await readDeployedSecret(env, values['secret-id'], chosen ?? 'service');
  const scope: SecretScope = chosen ?? (loaded.byEnv ? 'local' : 'service');
  // A local stack's .env holds its settings too.
  const effective =
    scope === 'local'
      ? {
          ...settings,
          bugStatusWebhook: settings.bugStatusWebhook || isSet(loaded.values.BUG_STATUS_WEBHOOK_URL),
        }
      : settings;
  const report = checkSecrets(loaded.source, loaded.values, loaded.byEnv, scope, effective);
  printReport(report, values.json, io);
  return report.ok ? 0 : 1;
});

function chooseSecret(secret: string | undefined, webhook: boolean): DeployedScope | undefined {
  if (secret !== undefined && !(SECRET_SCOPES as string[]).includes(secret))
    throw new UsageError(`--secret must be one of ${SECRET_SCOPES.join(', ')}`);
  if (webhook && secret !== undefined && secret !== 'webhook')
    throw new UsageError('--webhook is --secret webhook: give one of them');
  return webhook ? 'webhook' : (secret as DeployedScope | undefined);
}

const isSet = (value: unknown) => typeof value === 'string' && value.trim() !== '';

/**
 * The two settings that decide what is required, as the stack reads them: `-c key=value` (as
 * given to `cdk deploy`) over the `context` of cdk.json. Other settings are accepted and ignored,
 * so the same `-c` list can be pasted.
 */
function readSettings(context: readonly string[], cdkJsonPath: string | undefined): SecretSettings {
  const merged: Record<string, unknown> = { ...readCdkJsonContext(cdkJsonPath) };
  for (const entry of context) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new UsageError(`-c takes <setting>=<value>, not "${entry.slice(0, 40)}"`);
    merged[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return { bugStatusWebhook: isSet(merged.bugStatusWebhookUrl), fixPushRepo: isSet(merged.fixPushRepo) };
}

function readCdkJsonContext(path: string | undefined): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path ?? 'cdk.json', 'utf8');
  } catch (error) {
    // Without one, the settings are only what -c gives; a path given on purpose must exist.
    if (path === undefined) return {};
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    const parsed = JSON.parse(text) as { context?: unknown };
    return parsed.context && typeof parsed.context === 'object'
      ? (parsed.context as Record<string, unknown>)
      : {};
  } catch {
    throw new UsageError(`${path ?? 'cdk.json'} is not JSON`);
  }
}

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
  scope: DeployedScope,
): Promise<LoadedConfig> {
  const { variable, output } = DEPLOYED_SECRETS[scope];
  const id = secretId ?? env[variable];
  if (!id)
    throw new UsageError(
      `${variable} is not set (the stack output ${output}): pass --secret-id <arn>, or --file for a local config`,
    );
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
  settings: SecretSettings = NO_SETTINGS,
): SecretsReport {
  const nameOf = (field: SecretField) => (byEnv ? (FIELD_RULES[field].env ?? field) : field);
  const isBlank = (value: unknown) =>
    value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
  const checked = scope === 'local' ? LOCAL_FIELDS : DEPLOYED_SECRETS[scope].fields;
  const fields = checked.map((field) => {
    const rule = FIELD_RULES[field];
    const value = values[nameOf(field)];
    const base = { field, ...(rule.env ? { env: rule.env } : {}), need: needOf(field, settings, scope) };
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
  const statusSecret = fields.find((entry) => entry.field === 'bugStatusWebhookSecret');
  if (statusSecret?.state === 'set' && !settings.bugStatusWebhook) {
    notes.push(
      `${nameOf('bugStatusWebhookSecret')} is set but bugStatusWebhookUrl is not (give it with -c bugStatusWebhookUrl=… if the deployment sets it): nothing signs with it`,
    );
  }
  if (scope === 'service' && settings.fixPushRepo) {
    notes.push(
      `fixPushRepo is set: the fix runner pushes with githubPushToken from ${DEPLOYED_SECRETS['push-token'].label}; check it with --secret push-token`,
    );
  }
  if (scope === 'push-token' && !settings.fixPushRepo) {
    notes.push(
      'fixPushRepo is not set (give it with -c fixPushRepo=… if the deployment sets it): the stack creates this secret only with it',
    );
  }

  // Fields of other secrets. The service secret's seeded template still lists the webhook fields
  // (see service-secret-fields.ts), so they are expected there, but no longer read.
  if (scope !== 'local') {
    const here = DEPLOYED_SECRETS[scope];
    for (const field of SECRET_FIELDS) {
      if (checked.includes(field) || isBlank(values[field])) continue;
      const home = SECRET_SCOPES.find((candidate) => DEPLOYED_SECRETS[candidate].fields.includes(field));
      const belongs = home ? DEPLOYED_SECRETS[home] : DEPLOYED_SECRETS.service;
      if (here.public) {
        problems.push(
          `${field} does not belong in ${here.label}: ${here.reader.replace(/^the /, 'the public ')} Lambda can read it; remove it`,
        );
      } else {
        notes.push(
          `${field} is set here but ${belongs.reader} reads it from ${belongs.label} now: move it there and clear it here`,
        );
      }
    }
  }
  // The local stack's .env holds other settings too; only a secret's stray keys are worth a word.
  const known = new Set<string>(SECRET_FIELDS);
  const unknown = byEnv ? [] : Object.keys(values).filter((key) => !known.has(key));
  return { source, scope, fields, unknown, problems, notes, ok: problems.length === 0 };
}

function printReport(report: SecretsReport, json: boolean, io: CliIo): void {
  if (json) {
    io.out(JSON.stringify(report, null, 2));
    return;
  }
  io.out(`${report.source}:`);
  const label: Record<FieldState, string> = { set: 'set', missing: 'missing', invalid: 'INVALID' };
  const display = (entry: SecretsReport['fields'][number]) =>
    entry.env ? `${entry.field} (${entry.env})` : entry.field;
  const nameWidth = Math.max(...report.fields.map((entry) => display(entry).length));
  for (const entry of report.fields) {
    const rule = FIELD_RULES[entry.field];
    const state = entry.state === 'missing' && entry.need === 'required' ? 'MISSING' : label[entry.state];
    const note =
      entry.state === 'invalid'
        ? entry.problem
        : entry.state === 'missing'
          ? `${entry.need === 'required' ? 'required' : entry.need === 'webhook' ? 'one of the two webhook credentials' : 'optional'}: ${rule.usedFor}`
          : rule.usedFor;
    io.out(`  ${state.padEnd(7)}  ${display(entry).padEnd(nameWidth)}  ${note}`);
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
