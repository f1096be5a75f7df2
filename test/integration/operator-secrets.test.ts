import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { DEPLOYED_SECRETS, FIELD_RULES, main } from '../../scripts/secrets.js';
import {
  buildEmptyServiceSecrets,
  buildEmptyWebhookSecrets,
  SERVICE_SECRET_FIELDS,
  SERVICE_TOKEN_FIELDS,
  WEBHOOK_SECRET_FIELDS,
} from '../../shared/config/service-secret-fields.js';
import { makeWebhookSecret } from '../factories/bug-reports.js';

/**
 * `npm run secrets -- check` against a local config file and against a stand-in that speaks
 * Secrets Manager's JSON protocol (awsJson1_1, `secretsmanager.GetSecretValue`), so the real SDK
 * signs, sends and parses as it would against AWS.
 */

const run = promisify(execFile);
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bugbot-service-AbCdEf';
const WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bugbot-webhook-GhIjKl';
const GITHUB_WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bugbot-github-MnOpQr';
const LINEAR_WEBHOOK_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bugbot-linear-StUvWx';
const PUSH_TOKEN_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bugbot-push-YzAbCd';

/** Values that must never appear in the output: the service secret's, then the webhook secret's. */
const FULL_TOKENS = {
  discordBotToken: 'discord-value-MTIzNDU2Nzg5MDEyMzQ1Njc4',
  linearApiKey: 'lin_api_value_0123456789',
  githubToken: 'ghp_value_0123456789abcdef',
  posthogApiKey: 'phx_value_0123456789',
  anthropicApiKey: 'sk-ant-value-0123456789',
};
const FULL_WEBHOOK = {
  bugReportWebhookSecret: makeWebhookSecret(),
  bugReportBearerToken: 'bearer-value-0123456789abcdef',
};
/** Every field, as a local config or a service secret from before the webhook secret existed holds them. */
const FULL_SECRET = { ...FULL_TOKENS, ...FULL_WEBHOOK };
/** The other secrets' values, and the status webhook's field of the service secret. */
const STATUS_SECRET = makeWebhookSecret();
const GITHUB_HOOK_SECRET = 'github-hook-value-0123456789abcdef';
const LINEAR_HOOK_SECRET = 'lin_wh_value_0123456789abcdef';
const PUSH_TOKEN = 'github_pat_value_0123456789abcdef';
const NEVER_PRINTED = [
  ...Object.values(FULL_SECRET),
  STATUS_SECRET,
  GITHUB_HOOK_SECRET,
  LINEAR_HOOK_SECRET,
  PUSH_TOKEN,
];

class SecretsManagerStandIn {
  secretString: string | undefined = JSON.stringify(FULL_TOKENS);
  webhookSecretString: string | undefined = JSON.stringify(FULL_WEBHOOK);
  /** The other secrets, by ARN. */
  readonly others = new Map<string, string>();
  readonly requests: { target: string; secretId: unknown; signed: boolean }[] = [];
  url = '';
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.route(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: unknown };
    const target = String(request.headers['x-amz-target'] ?? '');
    this.requests.push({
      target,
      secretId: body.SecretId,
      signed: /^AWS4-HMAC-SHA256 Credential=AKIDOPERATOR\/\d{8}\/eu-west-1\/secretsmanager\//.test(
        String(request.headers.authorization ?? ''),
      ),
    });
    const reply = (status: number, payload: Record<string, unknown>) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': 'req-1',
        ...(status >= 400 ? { 'x-amzn-errortype': String(payload.__type) } : {}),
      });
      response.end(JSON.stringify(payload));
    };
    if (target !== 'secretsmanager.GetSecretValue')
      return reply(400, { __type: 'UnknownOperationException' });
    const stored =
      body.SecretId === SECRET_ARN
        ? { name: 'bugbot-service', value: this.secretString }
        : body.SecretId === WEBHOOK_SECRET_ARN
          ? { name: 'bugbot-webhook', value: this.webhookSecretString }
          : this.others.has(String(body.SecretId))
            ? { name: 'bugbot-other', value: this.others.get(String(body.SecretId)) }
            : undefined;
    if (stored?.value === undefined) {
      return reply(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    }
    return reply(200, {
      ARN: body.SecretId,
      Name: stored.name,
      VersionId: '6f1d1c1e-0000-4000-8000-000000000001',
      VersionStages: ['AWSCURRENT'],
      SecretString: stored.value,
      CreatedDate: 1_746_100_000,
    });
  }
}

const aws = new SecretsManagerStandIn();
let workDir: string;

beforeAll(async () => {
  await aws.start();
  workDir = mkdtempSync(path.join(tmpdir(), 'bugbot-secrets-'));
});
afterAll(async () => {
  await aws.stop();
  rmSync(workDir, { recursive: true, force: true });
});
beforeEach(() => {
  aws.secretString = JSON.stringify(FULL_TOKENS);
  aws.webhookSecretString = JSON.stringify(FULL_WEBHOOK);
  aws.others.clear();
  aws.requests.length = 0;
});

const awsEnv = {
  SECRETS_ARN: SECRET_ARN,
  WEBHOOK_SECRET_ARN: WEBHOOK_SECRET_ARN,
  GITHUB_WEBHOOK_SECRET_ARN,
  LINEAR_WEBHOOK_SECRET_ARN,
  FIX_PUSH_TOKEN_SECRET_ARN: PUSH_TOKEN_SECRET_ARN,
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIDOPERATOR',
  AWS_SECRET_ACCESS_KEY: 'operator-secret-key',
  AWS_ENDPOINT_URL_SECRETS_MANAGER: '',
};

async function check(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    argv,
    { ...awsEnv, AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url, ...env },
    { out: (line) => out.push(line), err: (line) => err.push(line) },
  );
  const text = [...out, ...err].join('\n');
  for (const value of NEVER_PRINTED) expect(text, 'a value was printed').not.toContain(value);
  return { code, out, err, text };
}

function lineOf(text: string, field: string): string {
  return text.split('\n').find((line) => line.includes(`${field} (`)) ?? `(no line for ${field})`;
}

describe('npm run secrets -- check, against Secrets Manager', () => {
  it('reads SECRETS_ARN with a signed GetSecretValue and says every service token is set (exit 0)', async () => {
    const { code, out, text } = await check(['check']);
    expect(code).toBe(0);
    expect(aws.requests).toEqual([
      { target: 'secretsmanager.GetSecretValue', secretId: SECRET_ARN, signed: true },
    ]);
    expect(out[0]).toBe(`${SECRET_ARN}:`);
    for (const field of SERVICE_TOKEN_FIELDS) expect(lineOf(text, field)).toMatch(/^\s+set\s/);
    // The webhook's credentials live in their own secret now.
    for (const field of WEBHOOK_SECRET_FIELDS) expect(text).not.toContain(field);
    expect(out.at(-1)).toBe('ok: bugbot can run with these');
  });

  it('names each missing token of a freshly deployed (empty) secret, and exits 1, without asking for webhook fields', async () => {
    aws.secretString = JSON.stringify(buildEmptyServiceSecrets());
    const { code, text } = await check(['check']);
    expect(code).toBe(1);
    for (const field of ['discordBotToken', 'linearApiKey', 'posthogApiKey', 'anthropicApiKey']) {
      expect(lineOf(text, field)).toMatch(/^\s+MISSING\s.*required:/);
      expect(text).toContain(`  - ${field} is required`);
    }
    expect(lineOf(text, 'githubToken')).toMatch(/^\s+missing\s.*optional:/);
    // The seeded template still lists the webhook fields, empty: neither unknown nor required.
    expect(text).not.toMatch(/bugReport(WebhookSecret|BearerToken)/);
    expect(text).toContain('4 problem(s):');
  });

  it('passes without any webhook field and without a GitHub token', async () => {
    const { githubToken: _github, ...rest } = FULL_TOKENS;
    aws.secretString = JSON.stringify(rest);
    expect((await check(['check'])).code).toBe(0);
  });

  it('notes webhook credentials left in the service secret (an older deployment), without failing', async () => {
    aws.secretString = JSON.stringify(FULL_SECRET);
    const { code, out } = await check(['check']);
    expect(code).toBe(0);
    for (const field of WEBHOOK_SECRET_FIELDS) {
      expect(out).toContain(
        `note: ${field} is set here but the webhook reads it from the webhook secret (WebhookSecretArn) now: move it there and clear it here`,
      );
    }
  });

  it('flags malformed values by their shape, never by their content', async () => {
    aws.secretString = JSON.stringify({
      ...FULL_TOKENS,
      linearApiKey: 42,
      legacyToken: 'stray-value-0123',
    });
    const { code, text } = await check(['check']);
    expect(code).toBe(1);
    expect(lineOf(text, 'linearApiKey')).toMatch(/INVALID.*must be a string/);
    expect(text).toMatch(/unknown\s+legacyToken\s+not a bugbot field; ignored/);
    expect(text).not.toContain('stray-value-0123');
  });

  it('reports a secret that is not JSON without echoing it, and a missing secret by its error', async () => {
    aws.secretString = 'discordBotToken=abc123-do-not-print';
    const notJson = await check(['check']);
    expect(notJson.code).toBe(1);
    expect(notJson.text).toContain('is not JSON');
    expect(notJson.text).not.toContain('abc123-do-not-print');

    const missing = await check([
      'check',
      '--secret-id',
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope',
    ]);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toMatch(/^failed: ResourceNotFoundException/);
  });

  it('prints JSON for machines', async () => {
    aws.secretString = JSON.stringify({ ...FULL_TOKENS, anthropicApiKey: '' });
    const { code, out } = await check(['check', '--json']);
    expect(code).toBe(1);
    const report = JSON.parse(out.join('\n')) as { ok: boolean; fields: { field: string; state: string }[] };
    expect(report.ok).toBe(false);
    expect(report.fields.find((entry) => entry.field === 'anthropicApiKey')?.state).toBe('missing');
  });
});

describe('npm run secrets -- check --webhook, against Secrets Manager', () => {
  it('reads WEBHOOK_SECRET_ARN and checks only the two webhook credentials (exit 0)', async () => {
    const { code, out, text } = await check(['check', '--webhook']);
    expect(code).toBe(0);
    expect(aws.requests).toEqual([
      { target: 'secretsmanager.GetSecretValue', secretId: WEBHOOK_SECRET_ARN, signed: true },
    ]);
    expect(out[0]).toBe(`${WEBHOOK_SECRET_ARN}:`);
    for (const field of WEBHOOK_SECRET_FIELDS) expect(lineOf(text, field)).toMatch(/^\s+set\s/);
    for (const field of SERVICE_TOKEN_FIELDS) expect(text).not.toContain(field);
    expect(out.at(-1)).toBe('ok: bugbot can run with these');
  });

  it('fails on a freshly deployed (empty) webhook secret, asking for one credential', async () => {
    aws.webhookSecretString = JSON.stringify(buildEmptyWebhookSecrets());
    const { code, text } = await check(['check', '--webhook']);
    expect(code).toBe(1);
    expect(lineOf(text, 'bugReportWebhookSecret')).toMatch(
      /^\s+missing\s.*one of the two webhook credentials/,
    );
    expect(text).toContain(
      '  - set bugReportWebhookSecret or bugReportBearerToken: the bug-report webhook refuses every delivery without one',
    );
    expect(text).toContain('1 problem(s):');
  });

  it('passes with only one webhook credential', async () => {
    aws.webhookSecretString = JSON.stringify({ bugReportBearerToken: FULL_WEBHOOK.bugReportBearerToken });
    expect((await check(['check', '--webhook'])).code).toBe(0);
  });

  it('flags malformed credentials by their shape, never by their content', async () => {
    aws.webhookSecretString = JSON.stringify({
      bugReportWebhookSecret: 'not-a-standard-secret-value',
      bugReportBearerToken: 'short',
    });
    const { code, text } = await check(['check', '--webhook']);
    expect(code).toBe(1);
    expect(lineOf(text, 'bugReportWebhookSecret')).toMatch(/INVALID.*must be whsec_ followed by base64/);
    expect(lineOf(text, 'bugReportBearerToken')).toMatch(/INVALID.*must be at least 16 characters/);
    for (const leaked of ['not-a-standard-secret-value', 'short']) expect(text).not.toContain(leaked);
  });

  it('fails when a service token sits in the webhook secret, which the public Lambda can read', async () => {
    aws.webhookSecretString = JSON.stringify({
      ...FULL_WEBHOOK,
      discordBotToken: FULL_TOKENS.discordBotToken,
    });
    const { code, text } = await check(['check', '--webhook']);
    expect(code).toBe(1);
    expect(text).toContain(
      '  - discordBotToken does not belong in the webhook secret (WebhookSecretArn): the public webhook Lambda can read it; remove it',
    );
  });
});

describe('npm run secrets -- check, with the deployment settings that add secrets', () => {
  it('requires bugStatusWebhookSecret in the service secret when bugStatusWebhookUrl is set (-c, as for cdk deploy)', async () => {
    const url = ['-c', 'bugStatusWebhookUrl=https://example.supabase.co/functions/v1/bugbot-status'];
    // Unset in the deployment: optional, and the check passes without it.
    const without = await check(['check']);
    expect(without.code).toBe(0);
    expect(lineOf(without.text, 'bugStatusWebhookSecret')).toMatch(
      /^\s+missing\s.*optional: signs the status events/,
    );

    const missing = await check(['check', ...url]);
    expect(missing.code).toBe(1);
    expect(lineOf(missing.text, 'bugStatusWebhookSecret')).toMatch(/^\s+MISSING\s/);
    expect(missing.text).toContain('  - bugStatusWebhookSecret is required');

    aws.secretString = JSON.stringify({ ...FULL_TOKENS, bugStatusWebhookSecret: 'not-whsec-value-0123' });
    const malformed = await check(['check', ...url]);
    expect(malformed.code).toBe(1);
    expect(malformed.text).toContain('  - bugStatusWebhookSecret must be whsec_ followed by base64');
    expect(malformed.text).not.toContain('not-whsec-value-0123');

    aws.secretString = JSON.stringify({ ...FULL_TOKENS, bugStatusWebhookSecret: STATUS_SECRET });
    const good = await check(['check', ...url]);
    expect(good.code).toBe(0);
    expect(lineOf(good.text, 'bugStatusWebhookSecret')).toMatch(/^\s+set\s/);
    // Set with no URL to sign for: worth a word, not a failure.
    const unused = await check(['check']);
    expect(unused.code).toBe(0);
    expect(unused.out).toContainEqual(
      expect.stringMatching(/^note: bugStatusWebhookSecret is set but bugStatusWebhookUrl is not/),
    );
  });

  it('reads the settings from the context of cdk.json too, as the stack does', async () => {
    const cdkJson = path.join(workDir, 'cdk.json');
    writeFileSync(
      cdkJson,
      JSON.stringify({
        app: 'x',
        context: { bugStatusWebhookUrl: 'https://example.com/hook', fixPushRepo: 'acme-bugbot/app' },
      }),
    );
    const { githubToken: _github, ...rest } = FULL_TOKENS;
    aws.secretString = JSON.stringify(rest);
    const { code, text, out } = await check(['check', '--cdk-json', cdkJson]);
    expect(code).toBe(1);
    expect(text).toContain('  - bugStatusWebhookSecret is required');
    // With a fork to push to, the processor opens the fixes' pull requests with githubToken.
    expect(text).toContain('  - githubToken is required');
    expect(out).toContain(
      "note: fixPushRepo is set: the fix runner pushes with githubPushToken from the fix runner's push token secret (FixPushTokenSecretArn); check it with --secret push-token",
    );
    // -c wins over cdk.json, as in cdk.
    const overridden = await check([
      'check',
      '--cdk-json',
      cdkJson,
      '-c',
      'bugStatusWebhookUrl=',
      '-c',
      'fixPushRepo=',
    ]);
    expect(overridden.code).toBe(0);
  });

  it('checks the GitHub and Linear webhooks’ own secrets: each needs its one signing secret, and nothing else', async () => {
    for (const [secret, arn, field, value] of [
      ['github-webhook', GITHUB_WEBHOOK_SECRET_ARN, 'githubWebhookSecret', GITHUB_HOOK_SECRET],
      ['linear-webhook', LINEAR_WEBHOOK_SECRET_ARN, 'linearWebhookSecret', LINEAR_HOOK_SECRET],
    ] as const) {
      // As the stack creates it: the field, empty.
      aws.others.set(arn, JSON.stringify({ [field]: '' }));
      aws.requests.length = 0;
      const empty = await check(['check', '--secret', secret]);
      expect(aws.requests).toEqual([
        { target: 'secretsmanager.GetSecretValue', secretId: arn, signed: true },
      ]);
      expect(empty.code, secret).toBe(1);
      expect(lineOf(empty.text, field)).toMatch(/^\s+MISSING\s/);
      expect(empty.text).toContain(`  - ${field} is required`);
      for (const token of SERVICE_TOKEN_FIELDS) expect(empty.text).not.toContain(token);

      aws.others.set(arn, JSON.stringify({ [field]: value }));
      const good = await check(['check', '--secret', secret]);
      expect(good.code, secret).toBe(0);
      expect(good.out.at(-1)).toBe('ok: bugbot can run with these');

      aws.others.set(arn, JSON.stringify({ [field]: value, linearApiKey: FULL_TOKENS.linearApiKey }));
      const leaky = await check(['check', '--secret', secret]);
      expect(leaky.code, secret).toBe(1);
      expect(leaky.text).toMatch(
        / {2}- linearApiKey does not belong in the (GitHub|Linear) webhook's secret .*: the public (GitHub|Linear) webhook Lambda can read it; remove it/,
      );
    }
  });

  it('checks the fix runner’s push token secret, which the stack makes only with fixPushRepo', async () => {
    aws.others.set(PUSH_TOKEN_SECRET_ARN, JSON.stringify({ githubPushToken: '' }));
    const empty = await check(['check', '--secret', 'push-token', '-c', 'fixPushRepo=acme-bugbot/app']);
    expect(empty.code).toBe(1);
    expect(empty.text).toContain('  - githubPushToken is required');
    expect(empty.out).toContain(
      '  MISSING  githubPushToken  required: the fix runner clones and pushes fix branches to the fixPushRepo fork with it',
    );

    aws.others.set(PUSH_TOKEN_SECRET_ARN, JSON.stringify({ githubPushToken: PUSH_TOKEN }));
    const good = await check(['check', '--secret', 'push-token', '-c', 'fixPushRepo=acme-bugbot/app']);
    expect(good.code).toBe(0);
    expect(good.out.filter((line) => line.startsWith('note:'))).toEqual([]);
    // Without the setting the stack has no such secret: said, not failed.
    const unset = await check(['check', '--secret', 'push-token']);
    expect(unset.code).toBe(0);
    expect(unset.out).toContainEqual(
      expect.stringMatching(/^note: fixPushRepo is not set .* the stack creates this secret only with it/),
    );
  });

  it('notes the webhooks’ signing secrets and the push token left in the service secret', async () => {
    aws.secretString = JSON.stringify({
      ...FULL_TOKENS,
      githubWebhookSecret: GITHUB_HOOK_SECRET,
      githubPushToken: PUSH_TOKEN,
    });
    const { code, out } = await check(['check']);
    expect(code).toBe(0);
    expect(out).toContain(
      "note: githubWebhookSecret is set here but the GitHub webhook reads it from the GitHub webhook's secret (GitHubWebhookSecretArn) now: move it there and clear it here",
    );
    expect(out).toContainEqual(
      expect.stringMatching(/^note: githubPushToken is set here but the fix runner reads it from/),
    );
  });

  it('asks a local .env for BUG_STATUS_WEBHOOK_SECRET when it sets BUG_STATUS_WEBHOOK_URL', async () => {
    const base = [
      `DISCORD_BOT_TOKEN=${FULL_SECRET.discordBotToken}`,
      `LINEAR_API_KEY=${FULL_SECRET.linearApiKey}`,
      `POSTHOG_API_KEY=${FULL_SECRET.posthogApiKey}`,
      `ANTHROPIC_API_KEY=${FULL_SECRET.anthropicApiKey}`,
      `BUG_REPORT_BEARER_TOKEN=${FULL_SECRET.bugReportBearerToken}`,
      'BUG_STATUS_WEBHOOK_URL=https://example.com/hook',
    ];
    const file = path.join(workDir, 'status.env');
    writeFileSync(file, base.join('\n'));
    const missing = await check(['check', '--file', file]);
    expect(missing.code).toBe(1);
    expect(missing.text).toContain('  - BUG_STATUS_WEBHOOK_SECRET is required');
    // The local stack makes its own GitHub and Linear signing secrets: optional here.
    expect(lineOf(missing.text, 'githubWebhookSecret')).toMatch(
      /^\s+missing\s+githubWebhookSecret \(GITHUB_WEBHOOK_SECRET\)\s+optional/,
    );
    expect(missing.text).not.toContain('githubPushToken');

    writeFileSync(file, [...base, `BUG_STATUS_WEBHOOK_SECRET=${STATUS_SECRET}`].join('\n'));
    expect((await check(['check', '--file', file])).code).toBe(0);
  });
});

describe('npm run secrets -- check --file, for a local config', () => {
  it('checks the secret’s JSON from a file, without calling AWS', async () => {
    const file = path.join(workDir, 'secret.json');
    writeFileSync(file, JSON.stringify({ ...FULL_SECRET, posthogApiKey: '  ' }));
    const { code, text } = await check(['check', '--file', file]);
    expect(code).toBe(1);
    expect(lineOf(text, 'posthogApiKey')).toMatch(/MISSING/);
    expect(aws.requests).toEqual([]);
  });

  it('checks a .env file by the environment variables the local stack reads', async () => {
    const file = path.join(workDir, 'local.env');
    writeFileSync(
      file,
      [
        '# the local stack reads these',
        `DISCORD_BOT_TOKEN=${FULL_SECRET.discordBotToken}`,
        `LINEAR_API_KEY="${FULL_SECRET.linearApiKey}"`,
        `POSTHOG_API_KEY=${FULL_SECRET.posthogApiKey}`,
        `ANTHROPIC_API_KEY=${FULL_SECRET.anthropicApiKey}`,
        `BUG_REPORT_BEARER_TOKEN=${FULL_SECRET.bugReportBearerToken}`,
        'LINEAR_TEAM_ID=team-42',
      ].join('\n'),
    );
    const { code, text, out } = await check(['check', '--file', file]);
    expect(code).toBe(0);
    expect(out[0]).toBe(`${file}:`);
    expect(lineOf(text, 'discordBotToken')).toMatch(/^\s+set\s+discordBotToken \(DISCORD_BOT_TOKEN\)/);
    expect(lineOf(text, 'githubToken')).toMatch(/missing/);
    expect(text).not.toContain('LINEAR_TEAM_ID');
  });

  it('still asks a .env for a webhook credential: the local stack reads both secrets’ variables from it', async () => {
    const file = path.join(workDir, 'no-webhook.env');
    writeFileSync(
      file,
      [
        `DISCORD_BOT_TOKEN=${FULL_SECRET.discordBotToken}`,
        `LINEAR_API_KEY=${FULL_SECRET.linearApiKey}`,
        `POSTHOG_API_KEY=${FULL_SECRET.posthogApiKey}`,
        `ANTHROPIC_API_KEY=${FULL_SECRET.anthropicApiKey}`,
      ].join('\n'),
    );
    const { code, text } = await check(['check', '--file', file]);
    expect(code).toBe(1);
    expect(text).toContain(
      '  - set BUG_REPORT_WEBHOOK_SECRET or BUG_REPORT_BEARER_TOKEN: the bug-report webhook refuses every delivery without one',
    );
  });
});

describe('npm run secrets: usage', () => {
  it('knows what every field of every secret is for, and which secret holds it', () => {
    expect(Object.keys(FIELD_RULES).sort()).toEqual(
      [
        ...SERVICE_SECRET_FIELDS,
        'bugStatusWebhookSecret',
        'githubWebhookSecret',
        'linearWebhookSecret',
        'githubPushToken',
      ].sort(),
    );
    const held = Object.values(DEPLOYED_SECRETS).flatMap((secret) => secret.fields);
    expect([...held].sort()).toEqual(Object.keys(FIELD_RULES).sort());
  });

  it('refuses what it cannot act on (exit 2)', async () => {
    for (const [argv, env, message] of [
      [[], {}, 'say check'],
      [['check', '--file', 'a.json', '--secret-id', 'x'], {}, 'choose --file or --secret-id'],
      [['check'], { SECRETS_ARN: '' }, 'SECRETS_ARN is not set'],
      [['check', '--webhook'], { WEBHOOK_SECRET_ARN: '' }, 'WEBHOOK_SECRET_ARN is not set'],
      [['check', '--file', path.join(workDir, 'absent.env')], {}, 'cannot read'],
      [['check', '--secret', 'everything'], {}, '--secret must be one of service, webhook, github-webhook'],
      [['check', '--webhook', '--secret', 'github-webhook'], {}, '--webhook is --secret webhook'],
      [['check', '-c', 'fixPushRepo'], {}, '-c takes <setting>=<value>'],
      [['check', '--cdk-json', path.join(workDir, 'absent.json')], {}, 'cannot read'],
      [
        ['check', '--secret', 'github-webhook'],
        { GITHUB_WEBHOOK_SECRET_ARN: '' },
        'GITHUB_WEBHOOK_SECRET_ARN is not set (the stack output GitHubWebhookSecretArn)',
      ],
      [
        ['check', '--secret', 'push-token'],
        { FIX_PUSH_TOKEN_SECRET_ARN: '' },
        'FIX_PUSH_TOKEN_SECRET_ARN is not set (the stack output FixPushTokenSecretArn)',
      ],
    ] as [string[], Record<string, string>, string][]) {
      const { code, err } = await check(argv, env);
      expect(code, argv.join(' ')).toBe(2);
      expect(err.join('\n')).toContain(message);
    }
  });

  it('is wired as an npm script whose exit code says whether bugbot can run', async () => {
    const good = path.join(workDir, 'good.json');
    writeFileSync(good, JSON.stringify(FULL_TOKENS));
    const { stdout } = await run('npm', ['run', '--silent', 'secrets', '--', 'check', '--file', good], {
      cwd: REPOSITORY_ROOT,
    });
    expect(stdout).toContain('ok: bugbot can run with these');

    const bad = path.join(workDir, 'bad.json');
    writeFileSync(bad, JSON.stringify(buildEmptyServiceSecrets()));
    const failed = await run('npm', ['run', '--silent', 'secrets', '--', 'check', '--file', bad], {
      cwd: REPOSITORY_ROOT,
    }).catch((error: { code: number; stdout: string }) => error);
    expect('code' in failed ? failed.code : 0).toBe(1);
  });
});
