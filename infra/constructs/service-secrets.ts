import { SecretValue, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  buildEmptyServiceSecrets,
  buildEmptyWebhookSecrets,
} from '../../shared/config/service-secret-fields.js';

/**
 * The Secrets Manager secrets, each created with its fields present and empty for the deployer
 * to fill in (console or `aws secretsmanager put-secret-value`):
 * - `secret`: the service tokens (Discord, Linear, GitHub, PostHog, Anthropic), read by the
 *   processor and the fix runner;
 * - `webhookSecret`: the bug-report webhook's two credentials only, read by the public webhook
 *   Lambda, so a compromise of the one internet-facing function that reads a secret exposes
 *   nothing but the credential it already checks.
 * CloudFormation rewrites a value only when its template changes, so redeploys keep the
 * deployer's values; changing a template would reset them, so add new fields to the stored
 * secret by hand instead (which is also why the service secret still lists the webhook fields).
 */
export class ServiceSecrets extends Construct {
  readonly secret: secretsmanager.Secret;
  readonly webhookSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.secret = new secretsmanager.Secret(this, 'Secret', {
      // Unchanged since the webhook fields moved out, so that an update leaves the secret alone.
      description: 'bugbot service tokens (Discord, Linear, GitHub, PostHog, Anthropic, bug-report webhook)',
      // The template holds no secret, only empty placeholders for the deployer to replace.
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(buildEmptyServiceSecrets())),
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The values are tokens issued by third parties (Discord, Linear, GitHub, PostHog, Anthropic); they are rotated in those vendors' consoles, which a rotation Lambda cannot do.",
    });

    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: 'bugbot bug-report webhook credentials (Standard Webhooks secret, bearer token)',
      secretStringValue: SecretValue.unsafePlainText(JSON.stringify(buildEmptyWebhookSecrets())),
    });
    Validations.of(this.webhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The values are shared with the sender (Supabase) and must change there at the same moment; a rotation Lambda cannot update Supabase, so they are rotated by hand in both places.',
    });
  }

  /** Read the service tokens' current value; no describe, list or write. */
  grantReadValue(grantee: iam.IGrantable): iam.Grant {
    return grantGetSecretValue(grantee, this.secret);
  }

  /** Read the webhook credentials' current value; no describe, list or write. */
  grantReadWebhookValue(grantee: iam.IGrantable): iam.Grant {
    return grantGetSecretValue(grantee, this.webhookSecret);
  }
}

function grantGetSecretValue(grantee: iam.IGrantable, secret: secretsmanager.ISecret): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['secretsmanager:GetSecretValue'],
    resourceArns: [secret.secretArn],
  });
}
