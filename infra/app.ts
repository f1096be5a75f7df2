import { App } from 'aws-cdk-lib';
import { BugbotStack } from './bugbot-stack.js';
import { addComplianceChecks } from './constructs/compliance-checks.js';
import { readDeploymentSettings } from './deployment-settings.js';

// No account/region: the stack is environment-agnostic, so synth needs no credentials and does
// no context lookups; `cdk deploy` takes them from the deployer's AWS profile.
const app = new App();
new BugbotStack(app, 'Bugbot', {
  description: 'bugbot: Discord and webhook bug reports to triage, Linear issues and fixes',
  settings: readDeploymentSettings(app.node),
});
addComplianceChecks(app);
