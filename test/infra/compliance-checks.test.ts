import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BugbotStack } from '../../infra/bugbot-stack.js';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { addComplianceChecks } from '../../infra/constructs/compliance-checks.js';
import { readDeploymentSettings } from '../../infra/deployment-settings.js';
import { SYNTH_TIMEOUT_MS } from '../support/cdk-synth.js';

const run = promisify(execFile);

const cdkJson = JSON.parse(readFileSync(path.join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

// The nag rules read the template, not the bundles: skip esbuild here to keep the file fast.
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

function describeViolations(pack: NagPack, scope: IConstruct): string[] {
  return pack
    .validateScope(scope)
    .violations.flatMap((violation) =>
      violation.violatingResources.map(
        (resource) =>
          `${violation.severity} ${violation.ruleName} at ${resource.constructPath}: ${violation.description}`,
      ),
    );
}

let appOutdir: string;
let app: App;
let stack: BugbotStack;
let packs: NagPack[];
let assembly: CloudAssembly;

beforeAll(() => {
  appOutdir = mkdtempSync(path.join(tmpdir(), 'bugbot-nag-'));
  app = new App({ outdir: appOutdir, context: { ...cdkJson.context, ...NO_BUNDLING } });
  stack = new BugbotStack(app, 'Bugbot', { settings: readDeploymentSettings(app.node) });
  packs = addComplianceChecks(app);
  // In-memory synth runs the packs as validation plugins and throws on any violation.
  assembly = app.synth();
}, SYNTH_TIMEOUT_MS);
afterAll(() => rmSync(appOutdir, { recursive: true, force: true }));

describe('cdk-nag', () => {
  it('runs the AwsSolutions and Serverless packs', () => {
    expect(packs.map((pack) => pack.name).sort()).toEqual(['AwsSolutions', 'Serverless']);
  });

  it(
    'finds no unacknowledged error or warning in the stack',
    () => {
      // Runs every rule over the whole tree again: seconds of CPU when idle.
      for (const pack of packs) expect(describeViolations(pack, app), pack.name).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'still flags a non-compliant resource (the check is not vacuous)',
    () => {
      const probeApp = new App({ outdir: path.join(appOutdir, 'probe'), context: NO_BUNDLING });
      const probe = new Stack(probeApp, 'Probe');
      new sqs.Queue(probe, 'PlainQueue');
      const [awsSolutions, serverless] = addComplianceChecks(probeApp);
      expect(describeViolations(awsSolutions!, probeApp).join('\n')).toMatch(
        /AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/,
      );
      expect(describeViolations(serverless!, probeApp).join('\n')).toMatch(/Serverless-SQSRedrivePolicy/);
      expect(() => probeApp.synth()).toThrow(/AwsSolutions-SQS4/);
    },
    SYNTH_TIMEOUT_MS,
  );

  it('acknowledges rules only on specific resources, each with a reason', () => {
    const acknowledgements: { path: string; id: string; reason: string }[] = [];
    const visit = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          // CDK's own acknowledgements of CloudFormation validation rules (W3010 on any stack whose
          // VPC reads stack.availabilityZones, F3002/F3003 on every FlowLog) are not ours to judge.
          if (id.startsWith('CloudFormation-Validate::')) continue;
          acknowledgements.push({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason });
        }
      }
      for (const child of construct.node.children) visit(child);
    };
    visit(app);

    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { path: at, id, reason } of acknowledgements) {
      expect(at, `${id} is acknowledged stack-wide`).not.toMatch(/^(Bugbot)?$/);
      expect(id, at).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(reason.length, `${id} at ${at} needs a real reason`).toBeGreaterThanOrEqual(40);
    }
  });

  it('leaves no CDK warning or error annotations', () => {
    // The annotations of the synth in beforeAll (Annotations.fromStack would synthesize it again).
    const messages = assembly.getStackArtifact(stack.artifactId).messages;
    const atLevel = (level: string) =>
      messages.filter((message) => message.level === level).map((m) => `${m.id}: ${String(m.entry.data)}`);
    expect(atLevel('error')).toEqual([]);
    expect(atLevel('warning')).toEqual([]);
  });
});

describe('infra/app.ts', () => {
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'bugbot-synth-'));
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it(
    'synthesizes offline with the compliance checks registered and nothing to report',
    async () => {
      // The CDK CLI runs the app this way: CDK_OUTDIR and the context as JSON in the environment.
      const {
        AWS_PROFILE: _profile,
        AWS_ACCESS_KEY_ID: _key,
        AWS_SECRET_ACCESS_KEY: _secret,
        ...env
      } = process.env;
      await run(path.join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsx'), ['infra/app.ts'], {
        cwd: REPOSITORY_ROOT,
        env: {
          ...env,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...NO_BUNDLING }),
        },
      });

      const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { violations?: unknown[] }[];
      };
      expect(report.pluginReports.flatMap((plugin) => plugin.violations ?? [])).toEqual([]);

      // Only the registered packs write their acknowledgements into the template.
      const template = JSON.parse(readFileSync(path.join(outdir, 'Bugbot.template.json'), 'utf8')) as {
        Resources: Record<string, { Metadata?: { cdk_nag?: { rules_to_suppress: { id: string }[] } } }>;
      };
      const acknowledged = Object.values(template.Resources).flatMap(
        (resource) => resource.Metadata?.cdk_nag?.rules_to_suppress.map((rule) => rule.id) ?? [],
      );
      expect(acknowledged).toEqual(expect.arrayContaining(['AwsSolutions-SQS3', 'Serverless-LambdaDLQ']));
      // A whole synth in a child process (tsx compiles infra/ first): ~30 s when idle.
    },
    SYNTH_TIMEOUT_MS,
  );
});
