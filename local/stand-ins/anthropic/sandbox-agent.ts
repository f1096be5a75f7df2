import { hasTool, readFirstUserText, readLastToolResults, readSystemText } from './conversation.js';
import type { MessagesRequest } from './messages-wire.js';
import { type AssistantTurn, type Script, scriptedAgent, textTurn, toolUseTurn } from './scripts.js';

/**
 * The sandbox Anthropic API playing the coding agent for the sandbox repository `acme/shop`
 * (`sandbox-repo/`), so the local stack shows a fix end to end without a real model. It answers
 * the fix runner's Claude Code CLI the way the runner's prompt asks a fix to prove itself: Read
 * `src/cart.js`; Write `src/cart.test.js`, a test that fails on the checkout crash (`TypeError:
 * Cannot read properties of undefined (reading 'map')`); Edit `src/cart.js` to guard `cartTotal`
 * against a missing items list; then summarise. The runner's `node --test` then fails on the base
 * tree with only that test added (reproduced) and passes on the fix.
 *
 * Fix requests about anything else get the honest answer of an agent that found nothing to change.
 */

export const SANDBOX_AGENT_SCRIPT = 'sandbox-agent';
export const SANDBOX_AGENT_NO_FIX_SCRIPT = 'sandbox-agent-no-fix';

/** The shipped bug, character for character (`sandbox-repo/src/cart.js`). */
export const SANDBOX_BUGGY_LINE =
  '  const total = items.map(lineTotal).reduce((sum, amount) => sum + amount, 0);';
export const SANDBOX_FIXED_LINES = [
  '  // A cart restored before its lines load (a guest, a returning visitor) has no items list yet.',
  '  const total = (items ?? []).map(lineTotal).reduce((sum, amount) => sum + amount, 0);',
].join('\n');
export const SANDBOX_FIX_SUMMARY =
  'Guarded cartTotal against a missing items list. A cart restored before its lines load has no ' +
  '`items`, so `items.map` threw "Cannot read properties of undefined (reading \'map\')" when Place ' +
  "order was pressed. src/cart.test.js reproduces it (a guest cart's total and its order); " +
  'cartTotal now treats a missing list as empty.';

/** The regression test the sandbox agent writes first: it fails on the shipped bug. */
export const SANDBOX_TEST_PATH = 'src/cart.test.js';
export const SANDBOX_REGRESSION_TEST = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cartTotal } from './cart.js';
import { placeOrder } from './checkout.js';

// "Checkout crashes when I press Pay": TypeError: Cannot read properties of undefined (reading 'map').
test('a cart whose items have not loaded totals zero instead of crashing', () => {
  assert.equal(cartTotal(undefined), 0);
});

test('pressing Place order with a guest cart sends an order instead of crashing', async () => {
  const sent = [];
  await placeOrder({ id: 'guest' }, async (order) => sent.push(order));
  assert.deepEqual(sent, [{ cartId: 'guest', amount: 0 }]);
});
`;

/** What a report of the sandbox bug mentions: the checkout, the cart, paying, or the exception. */
export const SANDBOX_BUG_PATTERN =
  /\b(cart|carts|checkout|check out|pay|paying|payment|place order|total)\b|reading 'map'|cartTotal/i;

/** The runner's prompt opens with this (fargate-runner/src/agent/build-prompt.ts). */
const FIX_PROMPT_OPENING = 'Fix the bug described below';
const CART_PATH = 'src/cart.js';

/**
 * The scripts to add to the Anthropic stand-in, in order. Both need the CLI's `Edit` tool, so the
 * CLI's session-title side request (no tools) never takes an agent turn.
 */
export function createSandboxAgentScripts(): Script[] {
  return [
    {
      name: SANDBOX_AGENT_SCRIPT,
      match: (request) => isFixRequest(request) && SANDBOX_BUG_PATTERN.test(readReportedPart(request)),
      respond: scriptedAgent([readCart, writeTest, editCart, summarise], textTurn(SANDBOX_FIX_SUMMARY)),
    },
    {
      name: SANDBOX_AGENT_NO_FIX_SCRIPT,
      match: isFixRequest,
      respond: () =>
        textTurn(
          'I could not trace this report to code in acme/shop (a cart, checkout and Place order ' +
            'button), so I changed nothing. This sandbox agent only knows the checkout crash.',
        ),
    },
  ];
}

export function installSandboxAgent(standIn: { addScript(script: Script): void }): void {
  for (const script of createSandboxAgentScripts()) standIn.addScript(script);
}

function isFixRequest(request: MessagesRequest): boolean {
  return hasTool(request, 'Edit') && readFirstUserText(request).includes(FIX_PROMPT_OPENING);
}

/** The issue part of the prompt: the fixed rules above it must not decide the match. */
function readReportedPart(request: MessagesRequest): string {
  const prompt = readFirstUserText(request);
  const start = prompt.indexOf('Issue title');
  return start >= 0 ? prompt.slice(start) : prompt;
}

/**
 * The CLI's tools want absolute paths; its system prompt names the workspace
 * (" - Primary working directory: /…/workspace" in 2.1.x, "Working directory: …" before).
 */
export function findWorkingDirectory(request: MessagesRequest): string | null {
  const match = /(?:Primary working directory|Working directory):\s*(\/[^\n]*)/.exec(readSystemText(request));
  return match?.[1]?.trim() || null;
}

function readCart(request: MessagesRequest): AssistantTurn {
  const cwd = findWorkingDirectory(request);
  if (!cwd) return textTurn('I could not tell which directory the repository is in, so I changed nothing.');
  return toolUseTurn(
    'Read',
    { file_path: `${cwd}/${CART_PATH}` },
    { text: 'The exception comes from an array method on a missing list; cartTotal maps over items.' },
  );
}

/** The test first, as the runner's prompt asks: it must fail on the code as it is. */
function writeTest(request: MessagesRequest): AssistantTurn {
  const cwd = findWorkingDirectory(request);
  const read = readLastToolResults(request)[0];
  // A repository that no longer has the shipped bug (already fixed, or edited by hand) is left alone.
  if (!cwd || !read || read.isError || !read.text.includes(SANDBOX_BUGGY_LINE.trim())) {
    return textTurn('src/cart.js does not contain the code I expected, so I changed nothing.');
  }
  return toolUseTurn(
    'Write',
    { file_path: `${cwd}/${SANDBOX_TEST_PATH}`, content: SANDBOX_REGRESSION_TEST },
    { text: 'First a test that reproduces the crash: a guest cart has no items list yet.' },
  );
}

function editCart(request: MessagesRequest): AssistantTurn {
  const cwd = findWorkingDirectory(request);
  const written = readLastToolResults(request)[0];
  if (!cwd || !written || written.isError) {
    return textTurn(`Writing ${SANDBOX_TEST_PATH} was refused, so I changed nothing.`);
  }
  return toolUseTurn('Edit', {
    file_path: `${cwd}/${CART_PATH}`,
    old_string: SANDBOX_BUGGY_LINE,
    new_string: SANDBOX_FIXED_LINES,
  });
}

function summarise(request: MessagesRequest): AssistantTurn {
  const edit = readLastToolResults(request)[0];
  if (!edit || edit.isError) return textTurn('My edit of src/cart.js was refused, so nothing changed.');
  return textTurn(SANDBOX_FIX_SUMMARY);
}
