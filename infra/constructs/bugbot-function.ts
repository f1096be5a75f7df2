import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { lambdaEsbuildOptions } from '../bundling.js';

export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every bugbot Lambda runs on this runtime and architecture. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
export const LAMBDA_ARCHITECTURE = lambda.Architecture.ARM_64;

export interface BugbotFunctionProps {
  /** The handler module, relative to the repository root (it must `export handler`). */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One bugbot Lambda: bundled by local esbuild with the options the bench uses, traced with
 * X-Ray, logging to its own log group with a retention, under its own role that starts with
 * nothing but writing to that log group. Callers grant the rest.
 */
export class BugbotFunction extends Construct {
  /** The handler module, relative to the repository root. */
  readonly entry: string;
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BugbotFunctionProps) {
    super(scope, id);
    this.entry = props.entry;

    // Retained on stack deletion so the last logs survive a teardown; the retention expires them.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });

    // Our own role instead of the default one: AWSLambdaBasicExecutionRole would let the
    // function create and write any log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${id}: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPOSITORY_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: LAMBDA_ARCHITECTURE,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment },
      projectRoot: REPOSITORY_ROOT,
      depsLockFilePath: path.join(REPOSITORY_ROOT, 'package-lock.json'),
      bundling: {
        // Never Docker: the bundle must come out the same on a laptop, in CI and in the bench.
        forceDockerBundling: false,
        format: lambdaEsbuildOptions.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
        target: lambdaEsbuildOptions.target,
        minify: lambdaEsbuildOptions.minify,
        sourceMap: lambdaEsbuildOptions.sourcemap,
        banner: lambdaEsbuildOptions.banner,
        mainFields: lambdaEsbuildOptions.mainFields,
        // The AWS SDK is bundled too (NodejsFunction would leave @aws-sdk/* to the runtime).
        externalModules: [...lambdaEsbuildOptions.external],
      },
    });

    // Active tracing is the only grant here that needs Resource "*"; the infra tests pin every
    // statement of the ingress roles, so another wildcard cannot hide behind this.
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions; AWS requires Resource "*" for them.',
      });
    }
  }
}
