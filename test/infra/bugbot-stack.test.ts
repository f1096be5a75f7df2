import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { App, CfnElement, Stack, Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugbotStack } from '../../infra/bugbot-stack.js';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { readDeploymentSettings } from '../../infra/deployment-settings.js';
import { DEPLOYED_SECRETS } from '../../scripts/secrets.js';
import { OPTIONAL_SERVICE_SECRET_FIELDS } from '../../shared/config/service-secret-fields.js';
import { JOBS_QUEUE_MAX_MESSAGE_BYTES } from '../../shared/jobs/job-message.js';
import { buildCreateTableInput, tableDefinition } from '../../shared/table/table-definition.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../shared/webhooks/read-webhook-body.js';
import { SYNTH_TIMEOUT_MS } from '../support/cdk-synth.js';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** Real-looking settings, so the test can tell a wired value from a default. */
const SETTINGS_CONTEXT = {
  discordApplicationId: '112233445566778899',
  discordPublicKey: 'ab'.repeat(32),
  fixAllowedRoleIds: '223344556677889900,334455667788990011',
  guildId: '445566778899001122',
  bugChannelId: '556677889900112233',
  githubRepo: 'acme/app',
  linearTeamId: 'team-42',
  posthogProjectId: '4242',
  posthogHost: 'https://eu.posthog.com',
  allowlist: 'src/,web/',
  alarmEmail: 'ops@example.com',
  issueTracker: 'github',
  anthropicModel: 'claude-opus-4-1',
  fixVerifyCommand: 'npm test -- --run',
  fixMaxTurns: '40',
  fixMaxBudgetUsd: '2.5',
  fixTimeoutSeconds: '900',
  fixMaxChangedFiles: '8',
  fixMaxDiffLines: '300',
  fixPerUserPerHour: '3',
  fixMonthlyBudgetUsd: '250',
  fixPushRepo: 'acme-bugbot/app',
};

let outdir: string;
let stack: BugbotStack;
let template: Template;
let resources: Record<string, Resource>;

// Synthesizing bundles the three Lambdas with esbuild: do it once for the whole file.
beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'bugbot-stack-'));
  const app = new App({ outdir, context: { ...cdkJson.context, ...SETTINGS_CONTEXT } });
  stack = new BugbotStack(app, 'Bugbot', { settings: readDeploymentSettings(app.node) });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
  // Bundling the Lambdas is CPU-bound; on a shared, busy machine it takes minutes of wall time.
}, SYNTH_TIMEOUT_MS);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

function logicalId(construct: IConstruct): string {
  const cfn = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!cfn || !CfnElement.isCfnElement(cfn))
    throw new Error(`${construct.node.path} has no CloudFormation element`);
  return Stack.of(cfn).getLogicalId(cfn);
}

function ofType(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

function resource(id: string): Resource {
  const found = resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
}

/** Every permission of a role, one line per action: "Allow sqs:SendMessage <resource json>". */
function permissionsOf(roleId: string): string[] {
  const role = resource(roleId);
  expect(role.Properties.ManagedPolicyArns, `${roleId} has managed policies`).toBeUndefined();
  expect(role.Properties.Policies, `${roleId} has inline policies`).toBeUndefined();
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return statements
    .flatMap((statement) =>
      [statement.Action]
        .flat()
        .map((action) => `${statement.Effect} ${action} ${JSON.stringify(statement.Resource)}`),
    )
    .sort();
}

function roleOf(functionId: string): string {
  const role = resource(functionId).Properties.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

describe('HTTP ingress', () => {
  it('has exactly the four POST routes, each on its own handler through a payload 2.0 Lambda integration', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes.map(([, route]) => route.Properties.RouteKey).sort()).toEqual([
      'POST /discord/interactions',
      'POST /webhooks/bug-report',
      'POST /webhooks/github',
      'POST /webhooks/linear',
    ]);

    const expected = {
      'POST /discord/interactions': stack.httpIngress.discordInteractions,
      'POST /webhooks/bug-report': stack.httpIngress.bugReportWebhook,
      'POST /webhooks/github': stack.httpIngress.githubWebhook,
      'POST /webhooks/linear': stack.httpIngress.linearWebhook,
    };
    for (const [routeKey, fn] of Object.entries(expected)) {
      const [, route] = routes.find(([, r]) => r.Properties.RouteKey === routeKey)!;
      const target = route.Properties.Target as { 'Fn::Join': [string, [string, { Ref: string }]] };
      const integration = resource(target['Fn::Join'][1][1].Ref);
      expect(integration.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(fn.function), 'Arn'] },
      });
      expect(route.Properties.AuthorizationType ?? 'NONE').toBe('NONE');
    }
    expect(stack.httpIngress.discordInteractions.entry).toBe('lambdas/discord-interactions/handler.ts');
    expect(stack.httpIngress.bugReportWebhook.entry).toBe('lambdas/bug-report-webhook/handler.ts');
    expect(stack.httpIngress.githubWebhook.entry).toBe('lambdas/github-webhook/handler.ts');
    expect(stack.httpIngress.linearWebhook.entry).toBe('lambdas/linear-webhook/handler.ts');
    expect(stack.processor.handler.entry).toBe('lambdas/processor/handler.ts');
  });

  it('bundles every function as ESM exporting `handler`', () => {
    const assemblyDir = Stage.of(stack)?.outdir ?? outdir;
    for (const [id, fn] of ofType('AWS::Lambda::Function')) {
      expect(fn.Properties.Handler, id).toBe('index.handler');
      const key = (fn.Properties.Code as { S3Key: string }).S3Key;
      const bundle = readFileSync(
        path.join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`, 'index.mjs'),
        'utf8',
      );
      expect(bundle, id).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}|export\s*\{[^}]*\bhandler\b[^}]*\}/);
    }
  });

  it('serves a $default stage that auto-deploys, throttles and writes JSON access logs to a retained-for-a-while group', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const [, stage] = stages[0]!;
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: expect.any(Number),
        ThrottlingBurstLimit: expect.any(Number),
      },
    });
    const settings = stage.Properties.AccessLogSettings as {
      DestinationArn: { 'Fn::GetAtt': [string] };
      Format: string;
    };
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    expect(Object.values(format).join(' ')).not.toMatch(/\$input|\$context\.requestOverride|header/i);
    const logGroup = resource(settings.DestinationArn['Fn::GetAtt'][0]);
    expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup.Properties.RetentionInDays).toEqual(expect.any(Number));
  });
});

describe('jobs queue', () => {
  function queues() {
    const all = ofType('AWS::SQS::Queue');
    const main = all.filter(([, q]) => q.Properties.RedrivePolicy !== undefined);
    const dlq = all.filter(([, q]) => q.Properties.RedrivePolicy === undefined);
    expect(main).toHaveLength(1);
    expect(dlq).toHaveLength(1);
    return { main: main[0]!, dlq: dlq[0]! };
  }

  it('moves a job to the DLQ after three receives, and the DLQ keeps it at least 7 days', () => {
    const { main, dlq } = queues();
    expect(main[0]).toBe(logicalId(stack.jobsQueue.queue));
    expect(main[1].Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlq[0], 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(dlq[1].Properties.MessageRetentionPeriod).toBeGreaterThanOrEqual(7 * 24 * 3600);
    expect(dlq[1].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('takes jobs as large as the webhook accepts reports (1 MiB), in the queue and its DLQ', () => {
    const { main, dlq } = queues();
    // Set explicitly: SQS's default was 256 KiB for queues created before 2025.
    expect(main[1].Properties.MaximumMessageSize).toBe(MAX_WEBHOOK_BODY_BYTES);
    expect(dlq[1].Properties.MaximumMessageSize).toBe(MAX_WEBHOOK_BODY_BYTES);
    expect(JOBS_QUEUE_MAX_MESSAGE_BYTES).toBe(1_048_576);
  });

  it('encrypts both queues with SQS-managed keys and refuses requests without TLS', () => {
    for (const [id, queue] of ofType('AWS::SQS::Queue')) {
      expect(queue.Properties.SqsManagedSseEnabled, id).toBe(true);
      expect(queue.Properties.KmsMasterKeyId, id).toBeUndefined();
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            }),
          ]),
        },
      });
    }
  });

  it('hides a received job for at least six times the processor timeout', () => {
    const { main } = queues();
    const processor = resource(logicalId(stack.processor.handler.function));
    const timeout = processor.Properties.Timeout as number;
    expect(timeout).toBeGreaterThan(0);
    expect(main[1].Properties.VisibilityTimeout as number).toBeGreaterThanOrEqual(6 * timeout);
  });

  it('feeds the processor in small batches that report item failures', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const [, mapping] = mappings[0]!;
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.jobsQueue.queue), 'Arn'] },
      FunctionName: { Ref: logicalId(stack.processor.handler.function) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(mapping.Properties.BatchSize).toBeGreaterThanOrEqual(2);
    expect(mapping.Properties.BatchSize).toBeLessThanOrEqual(10);
    expect(mapping.Properties.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(5);
  });
});

describe('bug table', () => {
  it('has the keys, index and TTL of tableDefinition, on-demand, with PITR, retained', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    const local = buildCreateTableInput('unused');

    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.KeySchema).toEqual([
      { AttributeName: tableDefinition.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey.name, KeyType: 'RANGE' },
    ]);
    const byName = (a: { AttributeName: string }, b: { AttributeName: string }) =>
      a.AttributeName.localeCompare(b.AttributeName);
    expect([...(table.Properties.AttributeDefinitions as { AttributeName: string }[])].sort(byName)).toEqual(
      [...local.AttributeDefinitions].sort(byName),
    );
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(tableDefinition.globalIndexes.length).toBeGreaterThan(0);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: tableDefinition.timeToLiveAttribute, Enabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });
});

describe('secrets', () => {
  it('seeds the service secret exactly as before the webhook secret existed, so an update keeps its tokens', () => {
    const value = JSON.parse(
      resource(logicalId(stack.serviceSecrets.secret)).Properties.SecretString as string,
    );
    // Key order too: CloudFormation compares the template text and rewrites the value on any change.
    expect(Object.keys(value)).toEqual([
      'discordBotToken',
      'linearApiKey',
      'githubToken',
      'posthogApiKey',
      'anthropicApiKey',
      'bugReportWebhookSecret',
      'bugReportBearerToken',
    ]);
    expect(Object.values(value).every((field) => field === '')).toBe(true);
  });

  it('keeps each webhook credential in a secret of its own that holds nothing else', () => {
    expect(
      ofType('AWS::SecretsManager::Secret')
        .map(([id]) => id)
        .sort(),
    ).toEqual(
      [
        stack.serviceSecrets.secret,
        stack.serviceSecrets.webhookSecret,
        stack.serviceSecrets.githubWebhookSecret,
        stack.serviceSecrets.linearWebhookSecret,
        // fixPushRepo is set: the runner pushes to the fork with a token of its own.
        stack.fixRunner.pushTokenSecret!,
      ]
        .map(logicalId)
        .sort(),
    );
    const storedValue = (secret: IConstruct) =>
      JSON.parse(resource(logicalId(secret)).Properties.SecretString as string);
    expect(storedValue(stack.serviceSecrets.githubWebhookSecret)).toEqual({ githubWebhookSecret: '' });
    expect(storedValue(stack.serviceSecrets.linearWebhookSecret)).toEqual({ linearWebhookSecret: '' });
    expect(storedValue(stack.fixRunner.pushTokenSecret!)).toEqual({ githubPushToken: '' });
    const value = JSON.parse(
      resource(logicalId(stack.serviceSecrets.webhookSecret)).Properties.SecretString as string,
    );
    expect(value).toEqual({ bugReportWebhookSecret: '', bugReportBearerToken: '' });
  });

  it('outputs both secrets’ ARNs for the deployer to fill in', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ServiceSecretsArn?.Value).toEqual({ Ref: logicalId(stack.serviceSecrets.secret) });
    expect(outputs.WebhookSecretArn?.Value).toEqual({ Ref: logicalId(stack.serviceSecrets.webhookSecret) });
    expect(outputs.GitHubWebhookSecretArn?.Value).toEqual({
      Ref: logicalId(stack.serviceSecrets.githubWebhookSecret),
    });
    expect(outputs.LinearWebhookSecretArn?.Value).toEqual({
      Ref: logicalId(stack.serviceSecrets.linearWebhookSecret),
    });
    expect(JSON.stringify(outputs.GitHubWebhookEndpoint?.Value)).toContain('webhooks/github');
    expect(JSON.stringify(outputs.LinearWebhookEndpoint?.Value)).toContain('webhooks/linear');
  });

  it('creates no secret and no field that `npm run secrets -- check` does not check', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const checked = ofType('AWS::SecretsManager::Secret').map(([id, secret]) => {
      // The secret's ARN is printed by an output; the script checks it as the scope of that output.
      const output = Object.entries(outputs).find(([, value]) =>
        isDeepStrictEqual(value.Value, { Ref: id }),
      )?.[0];
      const scope = Object.values(DEPLOYED_SECRETS).find((candidate) => candidate.output === output);
      const fields = Object.keys(JSON.parse(secret.Properties.SecretString as string));
      return { id, output, fields, checks: scope?.fields ?? [] };
    });
    for (const secret of checked) {
      expect(secret.output, `${secret.id} has no ARN output`).toBeDefined();
      expect(secret.checks, `${secret.output} is no secret the script knows`).not.toEqual([]);
      // Every seeded field is checked; fields the script checks beyond them are the hand-added
      // ones (bugStatusWebhookSecret), never a field of another secret.
      expect(secret.fields.filter((field) => !(secret.checks as readonly string[]).includes(field))).toEqual(
        secret.id === logicalId(stack.serviceSecrets.secret)
          ? ['bugReportWebhookSecret', 'bugReportBearerToken']
          : [],
      );
      expect(secret.checks.filter((field) => !secret.fields.includes(field))).toEqual(
        secret.id === logicalId(stack.serviceSecrets.secret) ? [...OPTIONAL_SERVICE_SECRET_FIELDS] : [],
      );
    }
    // And the script knows no secret the stack (with fixPushRepo) does not create.
    expect(checked.map((secret) => secret.output).sort()).toEqual(
      Object.values(DEPLOYED_SECRETS)
        .map((secret) => secret.output)
        .sort(),
    );
  });
});

describe('functions', () => {
  it('run every function on Node 22+ arm64 with explicit memory and timeout, active tracing and a log group with retention', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual(
      [
        stack.httpIngress.discordInteractions,
        stack.httpIngress.bugReportWebhook,
        stack.httpIngress.githubWebhook,
        stack.httpIngress.linearWebhook,
        stack.processor.handler,
      ]
        .map((fn) => logicalId(fn.function))
        .sort(),
    );
    for (const [id, fn] of functions) {
      const runtime = /^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime as string);
      expect(runtime, `${id} runtime`).not.toBeNull();
      expect(Number(runtime![1]), `${id} runtime`).toBeGreaterThanOrEqual(22);
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      expect(fn.Properties.MemorySize, id).toEqual(expect.any(Number));
      expect(fn.Properties.Timeout, id).toEqual(expect.any(Number));
      expect(fn.Properties.TracingConfig, id).toEqual({ Mode: 'Active' });
      const logGroupRef = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resource(logGroupRef).Properties.RetentionInDays, id).toEqual(expect.any(Number));
    }
  });

  it('gives each function the environment of DESIGN.md "Configuration", from the deployment settings', () => {
    const queueUrl = { Ref: logicalId(stack.jobsQueue.queue) };
    const secretArn = { Ref: logicalId(stack.serviceSecrets.secret) };
    const env = (fn: { function: IConstruct }) =>
      (resource(logicalId(fn.function)).Properties.Environment as { Variables: Record<string, unknown> })
        .Variables;

    expect(env(stack.httpIngress.discordInteractions)).toEqual({
      DISCORD_PUBLIC_KEY: SETTINGS_CONTEXT.discordPublicKey,
      DISCORD_APPLICATION_ID: SETTINGS_CONTEXT.discordApplicationId,
      DISCORD_GUILD_ID: SETTINGS_CONTEXT.guildId,
      FIX_ALLOWED_ROLE_IDS: SETTINGS_CONTEXT.fixAllowedRoleIds,
      JOBS_QUEUE_URL: queueUrl,
    });
    expect(env(stack.httpIngress.bugReportWebhook)).toEqual({
      JOBS_QUEUE_URL: queueUrl,
      SECRETS_ARN: { Ref: logicalId(stack.serviceSecrets.webhookSecret) },
    });
    expect(env(stack.httpIngress.githubWebhook)).toEqual({
      JOBS_QUEUE_URL: queueUrl,
      SECRETS_ARN: { Ref: logicalId(stack.serviceSecrets.githubWebhookSecret) },
    });
    expect(env(stack.httpIngress.linearWebhook)).toEqual({
      JOBS_QUEUE_URL: queueUrl,
      SECRETS_ARN: { Ref: logicalId(stack.serviceSecrets.linearWebhookSecret) },
    });
    expect(env(stack.processor.handler)).toEqual({
      JOBS_QUEUE_URL: queueUrl,
      DEAD_LETTER_QUEUE_URL: { Ref: logicalId(stack.jobsQueue.deadLetterQueue) },
      SECRETS_ARN: secretArn,
      TABLE_NAME: { Ref: logicalId(stack.bugTable.table) },
      DISCORD_APPLICATION_ID: SETTINGS_CONTEXT.discordApplicationId,
      BUG_CHANNEL_ID: SETTINGS_CONTEXT.bugChannelId,
      GITHUB_REPO: SETTINGS_CONTEXT.githubRepo,
      LINEAR_TEAM_ID: SETTINGS_CONTEXT.linearTeamId,
      POSTHOG_PROJECT_ID: SETTINGS_CONTEXT.posthogProjectId,
      POSTHOG_HOST: SETTINGS_CONTEXT.posthogHost,
      DISCORD_GUILD_ID: SETTINGS_CONTEXT.guildId,
      FIX_ALLOWED_ROLE_IDS: SETTINGS_CONTEXT.fixAllowedRoleIds,
      PEOPLE_LOOKUP_ROLE_IDS: '',
      FIX_ALLOWLIST: SETTINGS_CONTEXT.allowlist,
      BUG_STATUS_WEBHOOK_URL: '',
      MAX_RECEIVES: '3',
      ISSUE_TRACKER: SETTINGS_CONTEXT.issueTracker,
      ANTHROPIC_MODEL: SETTINGS_CONTEXT.anthropicModel,
      FIX_VERIFY_COMMAND: SETTINGS_CONTEXT.fixVerifyCommand,
      FIX_MAX_TURNS: SETTINGS_CONTEXT.fixMaxTurns,
      FIX_MAX_BUDGET_USD: SETTINGS_CONTEXT.fixMaxBudgetUsd,
      FIX_TIMEOUT_SECONDS: SETTINGS_CONTEXT.fixTimeoutSeconds,
      FIX_MAX_CHANGED_FILES: SETTINGS_CONTEXT.fixMaxChangedFiles,
      FIX_MAX_DIFF_LINES: SETTINGS_CONTEXT.fixMaxDiffLines,
      FIX_PER_USER_PER_HOUR: SETTINGS_CONTEXT.fixPerUserPerHour,
      FIX_MONTHLY_BUDGET_USD: SETTINGS_CONTEXT.fixMonthlyBudgetUsd,
      FIX_PUSH_REPO: SETTINGS_CONTEXT.fixPushRepo,
      // The fix launcher's (test/infra/fix-runner.test.ts checks their values).
      FIX_CLUSTER_ARN: expect.anything(),
      FIX_TASK_DEFINITION_ARN: expect.anything(),
      FIX_SUBNET_IDS: expect.anything(),
      FIX_SECURITY_GROUP_ID: expect.anything(),
      FIX_CONTAINER_NAME: expect.any(String),
      FIX_TASK_ROLE_ID: expect.anything(),
    });
  });
});

describe('the fix runner’s container', () => {
  it('gets the anthropicModel setting as ANTHROPIC_MODEL (unset, test/infra/fix-runner.test.ts: absent)', () => {
    const definition = ofType('AWS::ECS::TaskDefinition')[0]?.[1];
    const containers = definition?.Properties.ContainerDefinitions as {
      Environment: { Name: string; Value: unknown }[];
    }[];
    expect(containers[0]?.Environment).toContainEqual({
      Name: 'ANTHROPIC_MODEL',
      Value: SETTINGS_CONTEXT.anthropicModel,
    });
  });

  it('gets the fork’s push token (fixPushRepo is set) from a secret of its own, which is output for the deployer', () => {
    const pushSecret = stack.fixRunner.pushTokenSecret;
    expect(pushSecret).toBeDefined();
    const pushSecretId = logicalId(pushSecret!);
    const definition = ofType('AWS::ECS::TaskDefinition')[0]?.[1];
    const containers = definition?.Properties.ContainerDefinitions as { Secrets: unknown[] }[];
    expect(containers[0]?.Secrets).toContainEqual({
      Name: 'GITHUB_TOKEN',
      ValueFrom: { 'Fn::Join': ['', [{ Ref: pushSecretId }, ':githubPushToken::']] },
    });
    template.hasOutput('FixPushTokenSecretArn', { Value: { Ref: pushSecretId } });
    // The processor's FIX_PUSH_REPO and FIX_MONTHLY_BUDGET_USD: see "gives each function the environment".
  });
});

describe('least privilege', () => {
  const own = (fn: { logGroup: IConstruct }) => [
    `Allow logs:CreateLogStream ${JSON.stringify({ 'Fn::GetAtt': [logicalId(fn.logGroup), 'Arn'] })}`,
    `Allow logs:PutLogEvents ${JSON.stringify({ 'Fn::GetAtt': [logicalId(fn.logGroup), 'Arn'] })}`,
    // X-Ray's PutTraceSegments/PutTelemetryRecords have no resource-level permissions.
    'Allow xray:PutTelemetryRecords "*"',
    'Allow xray:PutTraceSegments "*"',
  ];
  const queueArn = () => JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.jobsQueue.queue), 'Arn'] });
  const deadLetterArn = () =>
    JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.jobsQueue.deadLetterQueue), 'Arn'] });
  const secretArn = () => JSON.stringify({ Ref: logicalId(stack.serviceSecrets.secret) });
  const webhookSecretArn = () => JSON.stringify({ Ref: logicalId(stack.serviceSecrets.webhookSecret) });

  it('lets the Discord ingress only send to the jobs queue (besides its own logs and traces)', () => {
    const fn = stack.httpIngress.discordInteractions;
    expect(permissionsOf(roleOf(logicalId(fn.function)))).toEqual(
      [...own(fn), `Allow sqs:SendMessage ${queueArn()}`].sort(),
    );
  });

  it('lets the public webhook ingress only send to the jobs queue and read its own secret, not the service tokens', () => {
    const fn = stack.httpIngress.bugReportWebhook;
    const permissions = permissionsOf(roleOf(logicalId(fn.function)));
    expect(permissions).toEqual(
      [
        ...own(fn),
        `Allow sqs:SendMessage ${queueArn()}`,
        `Allow secretsmanager:GetSecretValue ${webhookSecretArn()}`,
      ].sort(),
    );
    expect(permissions.join('\n')).not.toContain(secretArn());
  });

  it('lets the GitHub and Linear webhook ingresses only send jobs and read their own signing secret', () => {
    const cases = [
      [stack.httpIngress.githubWebhook, stack.serviceSecrets.githubWebhookSecret],
      [stack.httpIngress.linearWebhook, stack.serviceSecrets.linearWebhookSecret],
    ] as const;
    for (const [fn, secret] of cases) {
      const permissions = permissionsOf(roleOf(logicalId(fn.function)));
      expect(permissions).toEqual(
        [
          ...own(fn),
          `Allow sqs:SendMessage ${queueArn()}`,
          `Allow secretsmanager:GetSecretValue ${JSON.stringify({ Ref: logicalId(secret) })}`,
        ].sort(),
      );
      expect(permissions.join('\n')).not.toContain(secretArn());
      expect(permissions.join('\n')).not.toContain(webhookSecretArn());
    }
  });

  it('lets the processor do exactly what its code and its event source mapping call, and nothing more', () => {
    const fn = stack.processor.handler;
    const permissions = permissionsOf(roleOf(logicalId(fn.function)));
    const table = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack.bugTable.table), 'Arn'] });
    const indexes = tableDefinition.globalIndexes.map((index) =>
      JSON.stringify({
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [logicalId(stack.bugTable.table), 'Arn'] }, `/index/${index.indexName}`],
        ],
      }),
    );
    // Starting and stopping fix runs: scoped in test/infra/fix-runner.test.ts.
    const launch = permissions.filter((permission) =>
      /^Allow (ecs:RunTask|ecs:StopTask|iam:PassRole) /.test(permission),
    );
    expect(launch.map((permission) => permission.split(' ')[1])).toEqual([
      'ecs:RunTask',
      'ecs:StopTask',
      'iam:PassRole',
    ]);
    expect(permissions.filter((permission) => !launch.includes(permission))).toEqual(
      [
        ...own(fn),
        // The Lambda poller (receive, delete, queue attributes), the retry spacing, and the
        // follow-up jobs it sends (fold refreshes, product status events).
        ...[
          'ReceiveMessage',
          'DeleteMessage',
          'GetQueueAttributes',
          'ChangeMessageVisibility',
          'SendMessage',
        ].map((action) => `Allow sqs:${action} ${queueArn()}`),
        // shared/adapters/dynamodb: Get, Put, Update, Delete and Query commands, nothing else.
        ...['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query'].map(
          (action) => `Allow dynamodb:${action} ${table}`,
        ),
        ...indexes.map((index) => `Allow dynamodb:Query ${index}`),
        `Allow sqs:SendMessage ${deadLetterArn()}`,
        `Allow secretsmanager:GetSecretValue ${secretArn()}`,
      ].sort(),
    );
    // The DLQ only takes jobs from the processor: it never reads, deletes or purges it.
    expect(permissions.filter((permission) => permission.endsWith(deadLetterArn()))).toEqual([
      `Allow sqs:SendMessage ${deadLetterArn()}`,
    ]);
    // Nothing beyond the queue, the table and its indexes, the secret, its logs, X-Ray, and
    // starting the fix runner (RunTask, PassRole; scoped in test/infra/fix-runner.test.ts).
    const { taskDefinition } = stack.fixRunner;
    const passedRoles = [taskDefinition.taskRole, taskDefinition.executionRole!].map((role) => ({
      'Fn::GetAtt': [logicalId(role), 'Arn'],
    }));
    const fixRunner = [
      JSON.stringify({ Ref: logicalId(taskDefinition) }),
      JSON.stringify(passedRoles),
      JSON.stringify([...passedRoles].reverse()),
    ];
    const allowedResources = new Set([
      queueArn(),
      deadLetterArn(),
      table,
      ...indexes,
      secretArn(),
      ...fixRunner,
      '"*"',
    ]);
    for (const permission of permissions) {
      const [, action, resourceJson] = /^Allow (\S+) (.*)$/.exec(permission)!;
      if (action!.startsWith('logs:')) continue;
      // StopTask names any task of the fix cluster (acknowledged; scoped in fix-runner.test.ts).
      if (action === 'ecs:StopTask') continue;
      expect(allowedResources.has(resourceJson!), permission).toBe(true);
      if (resourceJson === '"*"') expect(action, permission).toMatch(/^xray:/);
      expect(action, permission).not.toMatch(/\*|dynamodb:(Scan|DeleteTable|UpdateTable)|sqs:PurgeQueue/);
    }
  });
});
