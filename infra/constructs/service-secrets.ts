import { SecretValue, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { buildEmptyServiceSecrets } from '../../shared/config/service-secret-fields.js';

/**
 * The one Secrets Manager secret holding the service tokens (SERVICE_SECRET_FIELDS). The stack
 * creates it with every field present and empty; the deployer fills the values in (console or
 * `aws secretsmanager put-secret-value`). CloudFormation rewrites the value only when this
 * template changes, so redeploys keep the deployer's tokens; adding a field here would reset
 * them, so add new fields to the stored secret by hand instead of changing the template.
 */
export class ServiceSecrets extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'bugbot service tokens (Discord, Linear, GitHub, PostHog, Anthropic, bug-report webhook)',
      // The template holds no secret, only empty placeholders for the deployer to replace.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(buildEmptyServiceSecrets())),
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The values are tokens issued by third parties (Discord, Linear, GitHub, PostHog, Anthropic, Supabase); they are rotated in those vendors' consoles, which a rotation Lambda cannot do.",
    });
  }

  /** Read the secret's current value; no describe, list or write. */
  grantReadValue(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    });
  }
}
