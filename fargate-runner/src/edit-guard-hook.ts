import { readFileSync } from 'node:fs';
import { type EditGuardConfig, evaluateToolCall } from './agent/edit-guard.js';

/**
 * Claude Code's PreToolUse hook: `node edit-guard-hook.mjs <config.json>`, the tool call as JSON on
 * stdin. Exit 0 allows the call; exit 2 refuses it and Claude Code shows the model our reason.
 * Any other exit code would let the call through, so every failure here refuses.
 */

function main(): void {
  try {
    const configPath = process.argv[2];
    if (!configPath) throw new Error('no configuration');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as EditGuardConfig;
    const input = JSON.parse(readFileSync(0, 'utf8'));
    const decision = evaluateToolCall(input, config);
    if (decision.allow) process.exit(0);
    process.stderr.write(`${decision.reason}\n`);
    process.exit(2);
  } catch {
    process.stderr.write('The sandbox could not check this tool call, so it was refused.\n');
    process.exit(2);
  }
}

main();
