import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startLocalStack } from './local-stack.js';

/** `npm start`: the local stack, on `PORT` (default 3000). `npm start -- --fresh` starts empty. */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { fresh: { type: 'boolean', default: false } } });
  if (existsSync('.env')) process.loadEnvFile('.env');
  const stack = await startLocalStack({ port: Number(process.env.PORT ?? 3000), fresh: values.fresh });

  const modes = Object.values(stack.modes);
  const real = modes.filter((mode) => mode.real).map((mode) => mode.service);
  const sandboxed = modes.filter((mode) => !mode.real).map((mode) => mode.service);
  console.log(`
bugbot local stack listening on ${stack.url}
  POST ${stack.url}/discord/interactions   Discord interactions (signed with .local/keys.json)
  POST ${stack.url}/webhooks/bug-report    bug reports (Standard Webhooks secret in .local/keys.json)
  POST ${stack.url}/webhooks/github        GitHub events (the sandbox sends them: see below)
  POST ${stack.url}/webhooks/linear        Linear events (the sandbox sends them: see below)
  POST ${stack.url}/_local/github/pulls/<n>/merge|close      merge or close a sandbox pull request
  POST ${stack.url}/_local/github/deployments                {"ref":"<branch>","environment_url":"https://…"}
  POST ${stack.url}/_local/linear/issues/<ENG-n>/state       {"type":"completed"|"canceled"}
  GET  ${stack.url}/_local/state           queues, bugs and everything the sandboxes received
  POST ${stack.url}/_local/faults          {"service":"linear","failRate":1,"status":500,"latencyMs":0}
  product status webhook: ${stack.loop.bugStatusWebhookUrl} (what it heard: sandbox.product in /_local/state)
  DynamoDB (dynalite) ${stack.dynamoEndpoint}   SQS ${stack.sqsEndpoint}${values.fresh ? '   (fresh start)' : ''}

real services:      ${real.length > 0 ? real.join(', ') : 'none'}
sandboxed services: ${sandboxed.join(', ')}   (set their credentials in .env to use the real ones)

try it, in another terminal:
  npm run discord -- contextualize-message "Checkout crashes when I press Pay — maya@example.com"
  npm run discord -- contextualize --issue ENG-2
  curl -s ${stack.url}/_local/state
`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    await stack.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error('the local stack could not start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
