import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * Registers the cdk-nag packs on an App (or Stage) so every synth checks the whole tree: an
 * unacknowledged error fails the synth, and the infra tests fail on warnings too. Returns the
 * packs so tests can run exactly the same checks.
 */
export function addComplianceChecks(app: Construct): NagPack[] {
  // Acknowledgements are also written into the template's Metadata (cdk_nag.rules_to_suppress),
  // so a reviewer of the synthesized template sees every exception and its reason.
  const options = { writeSuppressionsToCloudFormation: true };
  const packs: NagPack[] = [new AwsSolutionsChecks(app, options), new ServerlessChecks(app, options)];
  Validations.of(app).addPlugins(...packs);
  return packs;
}
