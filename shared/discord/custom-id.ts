import type { BugAction } from '../jobs/job-schemas.js';

/**
 * Bug-card buttons carry everything the ingress needs in their `custom_id`: `bug:<action>:<bugId>`.
 * The dismiss modal reuses the same id (`bug:dismiss:<bugId>`) so its submit names its bug too.
 */
export const CUSTOM_ID_MAX_LENGTH = 100;
export const BUG_ID_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

/**
 * The same list as `bugActions` in the job schemas, spelled here so the hot path does not need the
 * zod module; `Record<BugAction, …>` makes the compiler hold the two lists together.
 */
const BUG_ACTIONS: Record<BugAction, true> = {
  create_issue: true,
  draft_fix: true,
  dismiss: true,
  details: true,
  split: true,
};

const CUSTOM_ID_PREFIX = 'bug';
/** Well-formed but possibly unknown: a newer card's action reads as "unknown", not "malformed". */
const ACTION_PATTERN = /^[a-z_]{1,32}$/;

export type ParsedBugCustomId =
  | { ok: true; action: BugAction; bugId: string }
  | { ok: false; problem: 'too_long' | 'malformed' | 'unknown_action' };

export function parseBugCustomId(customId: string): ParsedBugCustomId {
  if (customId.length > CUSTOM_ID_MAX_LENGTH) return { ok: false, problem: 'too_long' };
  const parts = customId.split(':');
  if (parts.length !== 3 || parts[0] !== CUSTOM_ID_PREFIX) return { ok: false, problem: 'malformed' };
  const [, action = '', bugId = ''] = parts;
  if (!ACTION_PATTERN.test(action) || !BUG_ID_PATTERN.test(bugId)) return { ok: false, problem: 'malformed' };
  if (!isBugAction(action)) return { ok: false, problem: 'unknown_action' };
  return { ok: true, action, bugId };
}

export function formatBugCustomId(action: BugAction, bugId: string): string {
  if (!BUG_ID_PATTERN.test(bugId)) throw new RangeError('a bug id is 1-80 characters of [A-Za-z0-9_-]');
  return `${CUSTOM_ID_PREFIX}:${action}:${bugId}`;
}

export function isBugAction(value: string): value is BugAction {
  return Object.hasOwn(BUG_ACTIONS, value);
}
