import type { BuiltInteraction } from '../../local/discord-interaction-builder.js';
import { DEAD_LETTER_QUEUE } from '../../local/local-stack.js';
import type { Fault } from '../../local/stand-ins/stand-in.js';
import {
  replyTo,
  type SentMessage,
  type StackDriver,
  type StackState,
  type StateBug,
  startStackDriver,
} from './local-stack-driver.js';

/**
 * The fault matrix: every stand-in × every fault × {a bug report, a contextualize, a Draft Fix
 * including the PR-opening step}, through the whole local stack. One round per (service, fault):
 * a bug is first prepared for the fix with nothing failing (triaged card, thread, Linear issue),
 * then the fault is set, the three flows start together, and the round ends when the stack is
 * quiet (jobs queue empty, nothing in flight, no fix runner running). Each flow's ending is then
 * read from the local state and classified (see `Outcome`).
 */

export const SERVICES = ['discord', 'linear', 'posthog', 'anthropic', 'github'] as const;
export type Service = (typeof SERVICES)[number];

/** Past every processor client's timeout below (HTTP_TIMEOUT_MS, ANTHROPIC_TIMEOUT_MS). */
const LATENCY_MS = 2_000;

export const FAULTS = {
  '429 retry-after': { failRate: 1, status: 429, latencyMs: 0, retryAfterSeconds: 1 },
  '500': { failRate: 1, status: 500, latencyMs: 0 },
  '503': { failRate: 1, status: 503, latencyMs: 0 },
  'latency > timeout': { failRate: 0, status: 200, latencyMs: LATENCY_MS },
  '200 HTML': { failRate: 1, status: 200, latencyMs: 0, body: 'html' },
  '502 HTML': { failRate: 1, status: 502, latencyMs: 0, body: 'html' },
  'truncated JSON': { failRate: 1, status: 200, latencyMs: 0, body: 'truncated' },
} as const satisfies Record<string, Fault>;
export type FaultName = keyof typeof FAULTS;

/**
 * `draft fix`: the fault is on from the click (the request, the runner, the PR). `draft fix: PR
 * step`: the fault starts once the runner has pushed, so it meets the PR-opening step itself
 * (open the PR, attach it to the issue, tell the thread, update the card).
 */
export const FLOWS = ['bug report', 'contextualize', 'draft fix', 'draft fix: PR step'] as const;
export type Flow = (typeof FLOWS)[number];

/**
 * How a flow ended, read from the local state once the stack is quiet:
 * - `done`: it did what was asked, nothing missing, none of its jobs in the DLQ.
 * - `degraded`: it finished, something is missing, and what is missing is said where the person
 *   looks (the card, the answer, the packet).
 * - `refused`: it did not do it, none of its jobs is in the DLQ, and the person was told why
 *   (an answer, a thread note such as "Fix failed; nothing was pushed").
 * - `dlq-told`: a job is in the DLQ and the person waiting was told (the ⚠️ answer, the card's
 *   "Analysis failed", a thread note, a channel notice).
 * - `dlq-recorded`: a job is in the DLQ, the failing service is Discord itself so nobody could be
 *   told there, and the bug record carries the failure (`lastFailure`); the DLQ alarm fires.
 * - `dlq-untold`: a job is in the DLQ and nobody was told, nor is it on the bug record.
 * - `lost`: no job is left anywhere (queue, DLQ) and the person got neither the result nor a word.
 * - `stuck`: the stack is quiet but the flow waits forever: a bug left `analyzing` or
 *   `fix_requested`, an interaction never answered while its job is gone.
 * - `duplicated`: a side effect happened twice (two cards for a bug, one note twice in a thread,
 *   two packet comments or two issues for one request, two pull requests for one branch).
 * - `n/a`: the flow never calls the service at that point (PostHog and Anthropic after a push).
 */
export type Outcome =
  | 'n/a'
  | 'done'
  | 'degraded'
  | 'refused'
  | 'dlq-told'
  | 'dlq-recorded'
  | 'dlq-untold'
  | 'lost'
  | 'stuck'
  | 'duplicated';

export const FAILURES: readonly Outcome[] = ['dlq-untold', 'lost', 'stuck', 'duplicated'];

export interface CellResult {
  readonly service: Service;
  readonly fault: FaultName;
  readonly flow: Flow;
  readonly outcome: Outcome;
  /** What the classification saw, for the table's notes and failure messages. */
  readonly evidence: string;
}

/** The processor's environment for the matrix: short timeouts and retry spacing, no allowance limits. */
export const MATRIX_HANDLER_ENV: Record<string, string> = {
  RETRY_BASE_DELAY_SECONDS: '0',
  HTTP_TIMEOUT_MS: '800',
  ANTHROPIC_TIMEOUT_MS: '1500',
  FIX_PER_USER_PER_HOUR: '1000',
  CONTEXTUALIZE_PER_USER_PER_HOUR: '1000',
  FIX_RESULT_GRACE_SECONDS: '1',
  // The runner's own limit on the agent: a faulted Anthropic fails a fix within a minute.
  FIX_TIMEOUT_SECONDS: '60',
  // `FAULT_MATRIX_LOG_LEVEL=WARN npx vitest run test/integration/fault-matrix-github-errors.test.ts -t 503`
  ...(process.env.FAULT_MATRIX_LOG_LEVEL ? { POWERTOOLS_LOG_LEVEL: process.env.FAULT_MATRIX_LOG_LEVEL } : {}),
};

export interface MatrixRun {
  readonly results: CellResult[];
  close(): Promise<void>;
}

export async function startMatrixStack(): Promise<StackDriver> {
  return startStackDriver(MATRIX_HANDLER_ENV);
}

interface RoundContext {
  readonly driver: StackDriver;
  readonly service: Service;
  readonly fault: FaultName;
  /** Unique per round: every text the round sends carries it. */
  readonly marker: string;
}

let roundCounter = 0;

/** Runs one (service, fault) round: the three flows under the fault, then their classification. */
export async function runRound(
  driver: StackDriver,
  service: Service,
  fault: FaultName,
): Promise<CellResult[]> {
  roundCounter += 1;
  const marker = `round${roundWord(roundCounter)}${service}`;
  const context: RoundContext = { driver, service, fault, marker };
  const prStep = PR_STEP_SERVICES.includes(service);
  await driver.clearFaults();
  const [fixTarget, prTarget] = await Promise.all([
    prepareFixTarget(context, 'fix'),
    prStep ? prepareFixTarget(context, 'pr') : Promise.resolve(undefined),
  ]);

  // The PR-opening step under the fault: a fix started while nothing fails, the fault set the
  // moment its runner has pushed (before its result can be processed).
  const prFix = prTarget ? await startDraftFixUntilPushed(context, prTarget) : undefined;
  setFaultNow(driver, service, FAULTS[fault]);
  const [report, contextualize, fix] = await Promise.all([
    startBugReport(context),
    startContextualize(context),
    startDraftFix(context, fixTarget),
  ]);
  const state = await waitForQuiet(driver, 300_000);
  await driver.clearFaults();
  const dlq = driver.stack.engine.peekMessages(DEAD_LETTER_QUEUE).map((message) => message.body);
  const view: RoundView = { state, dlq, service };
  return [
    { service, fault, flow: 'bug report', ...classifyBugReport(view, report) },
    { service, fault, flow: 'contextualize', ...classifyContextualize(view, contextualize) },
    { service, fault, flow: 'draft fix', ...classifyDraftFix(view, fix) },
    prFix
      ? { service, fault, flow: 'draft fix: PR step', ...classifyDraftFix(view, prFix) }
      : {
          service,
          fault,
          flow: 'draft fix: PR step',
          outcome: 'n/a',
          evidence: `${service} is not called once the runner has pushed`,
        },
  ];
}

/** Services the processor calls after a fix's branch is pushed: GitHub (the PR), Linear, Discord. */
const PR_STEP_SERVICES: readonly Service[] = ['github', 'linear', 'discord'];

/** In-process, so no request can slip between "pushed" and "faulted". */
function setFaultNow(driver: StackDriver, service: Service, fault: Fault): void {
  const standIn = driver.stack.sandbox.standIns.find((candidate) => candidate.service === service);
  if (!standIn) throw new Error(`${service} is not sandboxed`);
  standIn.setFault(fault);
}

async function startDraftFixUntilPushed(context: RoundContext, bugId: string): Promise<FixProbe> {
  const github = context.driver.stack.sandbox.github;
  const from = github.calls.length;
  const probe = await startDraftFix(context, bugId);
  const deadline = Date.now() + 240_000;
  for (;;) {
    const calls = github.calls.slice(from);
    const pushed = calls.findIndex(
      (call) => call.method === 'POST' && call.path.includes('git-receive-pack') && call.status === 200,
    );
    if (pushed >= 0) {
      if (calls.slice(pushed).some((call) => call.method === 'POST' && call.path.endsWith('/pulls'))) {
        throw new Error('the pull request was opened before the fault could be set');
      }
      return probe;
    }
    if (Date.now() > deadline) throw new Error('the fix runner never pushed');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Quiet: no job queued or in flight, no fix runner running; checked twice, a poll apart. */
async function waitForQuiet(driver: StackDriver, timeoutMs: number): Promise<StackState> {
  let quietSince: number | undefined;
  return driver.waitFor(
    'the stack to go quiet',
    (state) => {
      const quiet =
        state.queues.jobs.visible === 0 &&
        state.queues.jobs.inFlight === 0 &&
        driver.stack.launcher.runningTasks().length === 0;
      if (!quiet) {
        quietSince = undefined;
        return undefined;
      }
      quietSince ??= Date.now();
      return Date.now() - quietSince >= 300 ? state : undefined;
    },
    timeoutMs,
  );
}

// --- flows -------------------------------------------------------------------------------------

interface ReportProbe {
  readonly bugId: string;
}

/**
 * Every report carries its own crash (a function name made of the round's marker): reports with
 * different fingerprints are never folded into each other, so each round's bug stands alone.
 */
function crashLogs(marker: string, part: string): string {
  return [
    "TypeError: Cannot read properties of undefined (reading 'map')",
    `    at render${capitalize(marker)}${capitalize(part)} (https://shop.example.com/assets/main.js:12:34)`,
    `    at ${part}Checkout${capitalize(marker)} (https://shop.example.com/assets/main.js:40:2)`,
  ].join('\n');
}

/**
 * On a machine busy with six stacks the ingress can spend its budget before the local queue
 * takes the job and answer 503 (retry later, nothing queued; no service under fault is on that
 * path). Do what a retrying sender does (the README's outbox for Supabase), a few times.
 */
async function sendAsRetryingSender(
  driver: StackDriver,
  report: Record<string, unknown>,
): ReturnType<StackDriver['sendReport']> {
  let sent = await driver.sendReport(report);
  for (let attempt = 1; sent.status === 503 && attempt < 5; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    sent = await driver.sendReport(report);
  }
  return sent;
}

async function startBugReport(context: RoundContext): Promise<ReportProbe> {
  const sent = await sendAsRetryingSender(context.driver, {
    id: `${context.marker}-report`,
    description: `Checkout page goes blank after pressing Pay (${context.marker} report)`,
    user_id: `u_${context.marker}`,
    user_email: 'maya@example.com',
    console_logs: crashLogs(context.marker, 'report'),
  });
  if (sent.status !== 202) throw new Error(`the report was refused: ${sent.status}`);
  return { bugId: String(sent.body.bugId) };
}

interface ContextualizeProbe {
  readonly interaction: BuiltInteraction;
  /** In the target message, so in the issue's description and the packet. */
  readonly needle: string;
}

async function startContextualize(context: RoundContext): Promise<ContextualizeProbe> {
  const needle = `Cart total shows NaN for ${context.marker}.`;
  const sent = await context.driver.sendCommand('contextualize-message', [`${needle} maya@example.com`]);
  if (sent.status !== 200) throw new Error(`contextualize was refused at the door: ${sent.status}`);
  return { interaction: sent.interaction, needle };
}

interface FixProbe {
  readonly bugId: string;
  readonly interaction: BuiltInteraction;
}

/** A triaged bug with its card, thread and Linear issue, made while nothing fails. */
async function prepareFixTarget(context: RoundContext, part: string): Promise<string> {
  const { driver, marker } = context;
  const report = {
    id: `${marker}-${part}`,
    description: `Checkout crashes when I press Pay on the cart (${marker} ${part})`,
    user_id: `u_${marker}_${part}`,
    console_logs: crashLogs(marker, part),
  };
  const sent = await sendAsRetryingSender(driver, report);
  if (sent.status !== 202) throw new Error(`the fix target's report was refused: ${sent.status}`);
  const bugId = String(sent.body.bugId);
  await driver.waitFor(
    'the fix target card',
    (state) => {
      const bug = bugOf(state, bugId);
      return bug?.status === 'triaged' && bug.card?.threadId ? bug : undefined;
    },
    60_000,
  );
  const click = await driver.sendCommand('button', ['create_issue', bugId]);
  if (click.status !== 200) throw new Error(`Create Issue was refused: ${click.status}`);
  await driver.waitFor('the fix target issue', (state) => bugOf(state, bugId)?.issue, 60_000);
  await waitForQuiet(driver, 60_000);
  return bugId;
}

async function startDraftFix(context: RoundContext, bugId: string): Promise<FixProbe> {
  const sent = await context.driver.sendCommand('button', ['draft_fix', bugId]);
  if (sent.status !== 200) throw new Error(`Draft Fix was refused at the door: ${sent.status}`);
  return { bugId, interaction: sent.interaction };
}

// --- classification ----------------------------------------------------------------------------

interface RoundView {
  readonly state: StackState;
  readonly dlq: readonly string[];
  readonly service: Service;
}

type Classified = { readonly outcome: Outcome; readonly evidence: string };

interface BugWithFailure extends StateBug {
  readonly lastFailure?: { job: string; what: string; told: boolean };
  readonly fix?: { jobId: string; status: string; pullRequestUrl?: string; branch?: string };
  readonly analysis?: { state: string; failure?: string; replayUnavailable?: string };
}

function bugOf(state: StackState, bugId: string): BugWithFailure | undefined {
  return state.bugs.find((bug) => bug.bugId === bugId) as BugWithFailure | undefined;
}

function messages(state: StackState): SentMessage[] {
  return state.sandbox.discord.messages;
}

function buttonIds(message: SentMessage): string[] {
  return message.components.flatMap((row) => row.components.flatMap((button) => button.custom_id ?? []));
}

function cardsOf(state: StackState, bugId: string): SentMessage[] {
  return messages(state).filter(
    (message) => message.kind === 'channel' && buttonIds(message).some((id) => id.endsWith(`:${bugId}`)),
  );
}

function threadMessages(state: StackState, threadId: string | undefined): SentMessage[] {
  if (!threadId) return [];
  return messages(state).filter((message) => message.threadId === threadId);
}

/** Any message posted twice where one was meant: the same text (and embeds) twice in one place. */
function repeatedPosts(posts: readonly SentMessage[]): string[] {
  const seen = new Map<string, number>();
  for (const post of posts) {
    const key = `${post.threadId ?? post.channelId}|${post.content}|${JSON.stringify(post.embeds)}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.entries()].filter(([, count]) => count > 1).map(([key]) => key.slice(0, 120));
}

function inDlq(view: RoundView, ...needles: string[]): boolean {
  return view.dlq.some((body) => needles.some((needle) => body.includes(needle)));
}

function classifyBugReport(view: RoundView, probe: ReportProbe): Classified {
  const { state } = view;
  const bug = bugOf(state, probe.bugId);
  const dead = inDlq(view, `"bugId":"${probe.bugId}"`);
  const cards = cardsOf(state, probe.bugId);
  const card = cards[0];
  const cardText = JSON.stringify(card?.embeds ?? []);
  const notice = messages(state).some(
    (message) =>
      message.kind === 'channel' && message.content.includes(`(\`${probe.bugId}\`) could not be processed`),
  );
  const thread = threadMessages(state, bug?.card?.threadId);
  const repeats = repeatedPosts([...cards, ...thread]);
  if (cards.length > 1 || repeats.length > 0)
    return { outcome: 'duplicated', evidence: `${cards.length} cards; repeated: ${repeats.join('; ')}` };
  if (!bug)
    return dead
      ? classifyDead(view, false, undefined, 'no bug record')
      : { outcome: 'lost', evidence: 'no bug' };
  if (bug.status === 'analyzing' && !dead) return { outcome: 'stuck', evidence: 'bug left analyzing' };
  const told = notice || /Analysis failed/.test(cardText);
  if (dead) return classifyDead(view, told, bug, `status ${bug.status}, card ${card ? 'posted' : 'missing'}`);
  if (!card) return { outcome: 'lost', evidence: `status ${bug.status}, no card, job gone` };
  if (/Analysis pending/.test(cardText))
    return { outcome: 'stuck', evidence: 'card says analysis pending, job gone' };
  if (bug.analysis?.state === 'done' && bug.card?.threadId) {
    if (bug.analysis.replayUnavailable && /without the session replay/.test(cardText))
      return { outcome: 'degraded', evidence: `card: ${bug.analysis.replayUnavailable}` };
    if (bug.analysis.replayUnavailable) return { outcome: 'lost', evidence: 'replay missing, card silent' };
    return { outcome: 'done', evidence: `card + thread, ${bug.status}` };
  }
  if (/Analysis failed/.test(cardText)) return { outcome: 'refused', evidence: 'card: analysis failed' };
  return { outcome: 'lost', evidence: `status ${bug.status}, analysis ${bug.analysis?.state ?? 'none'}` };
}

function classifyContextualize(view: RoundView, probe: ContextualizeProbe): Classified {
  const { state } = view;
  const reply = replyTo(state, probe.interaction)?.content ?? '';
  const dead = inDlq(view, probe.interaction.id);
  const comments = state.sandbox.linear.comments.filter((comment) => comment.body.includes(probe.needle));
  const issues = (state.sandbox.linear.issues as { description?: string }[]).filter((issue) =>
    (issue.description ?? '').includes(probe.needle),
  );
  if (comments.length > 1 || issues.length > 1)
    return { outcome: 'duplicated', evidence: `${comments.length} comments, ${issues.length} issues` };
  if (dead)
    return classifyDead(
      view,
      reply.includes("couldn't finish"),
      undefined,
      `reply: ${reply.slice(0, 60) || 'none'}`,
    );
  if (reply.startsWith('Context added')) {
    if (comments.length !== 1) return { outcome: 'lost', evidence: 'answered done, no comment' };
    const body = comments[0]?.body ?? '';
    return /Missing:/.test(reply) || /incomplete/.test(body)
      ? { outcome: 'degraded', evidence: reply.match(/Missing: [^.]*/)?.[0] ?? 'packet incomplete' }
      : { outcome: 'done', evidence: 'packet + answer' };
  }
  if (reply.length > 0) return { outcome: 'refused', evidence: reply.slice(0, 80) };
  return { outcome: 'lost', evidence: 'never answered, job gone' };
}

function classifyDraftFix(view: RoundView, probe: FixProbe): Classified {
  const { state } = view;
  const bug = bugOf(state, probe.bugId);
  const reply = replyTo(state, probe.interaction)?.content ?? '';
  const jobId = bug?.fix?.jobId;
  const dead = inDlq(view, probe.interaction.id, ...(jobId ? [`"jobId":"${jobId}"`] : []));
  const branch = bug?.fix?.branch;
  const pulls = ((state.sandbox.github as { pulls?: { head: string; number: number }[] }).pulls ?? []).filter(
    (pull) => branch !== undefined && pull.head === branch,
  );
  const thread = threadMessages(state, bug?.card?.threadId);
  const repeats = repeatedPosts(thread);
  const attachments = (state.sandbox.linear.attachments as { url: string }[]).filter((attachment) =>
    pulls.some((pull) => attachment.url.endsWith(`/pull/${pull.number}`)),
  );
  if (pulls.length > 1 || repeats.length > 0 || attachments.length > 1)
    return {
      outcome: 'duplicated',
      evidence: `${pulls.length} PRs, ${attachments.length} attachments; repeated: ${repeats.join('; ')}`,
    };
  if (!bug) return { outcome: 'lost', evidence: 'bug vanished' };
  const noteOf = (pattern: RegExp) => thread.some((message) => pattern.test(message.content));
  const drafted = noteOf(/pull request|github\.com\/acme\/shop\/pull/i) && bug.status === 'fix_drafted';
  const failedNote = noteOf(/Fix (failed|rejected)|changed nothing|could not start/i);
  const toldByReply = reply.includes("couldn't finish") || /did not run/.test(reply);
  if (bug.status === 'fix_requested')
    return {
      outcome: 'stuck',
      evidence: `bug left fix_requested; ${pulls.length} PR; ${dead ? 'in DLQ' : 'no job left'}`,
    };
  if (dead)
    return classifyDead(
      view,
      toldByReply || failedNote,
      bug,
      `status ${bug.status}, ${pulls.length} PR, reply: ${reply.slice(0, 50) || 'none'}`,
    );
  if (drafted && pulls.length === 1)
    return { outcome: 'done', evidence: `PR #${pulls[0]?.number}, fix_drafted` };
  if (failedNote) return { outcome: 'refused', evidence: `thread: fix failed; bug ${bug.status}` };
  if (reply.length > 0 && !reply.startsWith('Drafting a fix'))
    return { outcome: 'refused', evidence: reply.slice(0, 80) };
  return {
    outcome: 'lost',
    evidence: `status ${bug.status}, ${pulls.length} PR, reply: ${reply.slice(0, 50) || 'none'}`,
  };
}

function classifyDead(
  view: RoundView,
  told: boolean,
  bug: BugWithFailure | undefined,
  evidence: string,
): Classified {
  if (told) return { outcome: 'dlq-told', evidence };
  if (view.service === 'discord' && (bug ? bug.lastFailure !== undefined : true))
    return {
      outcome: 'dlq-recorded',
      evidence: `${evidence}; ${bug?.lastFailure ? `lastFailure: ${bug.lastFailure.what}` : 'no bug: DLQ + alarm'}`,
    };
  return {
    outcome: 'dlq-untold',
    evidence: `${evidence}; lastFailure ${bug?.lastFailure ? 'set' : 'absent'}`,
  };
}

// --- the table ---------------------------------------------------------------------------------

export function renderTable(results: readonly CellResult[]): string {
  const lines = [
    `| service | fault | ${FLOWS.join(' | ')} |`,
    `|---|---|${FLOWS.map(() => '---').join('|')}|`,
  ];
  const services = [...new Set(results.map((cell) => cell.service))];
  for (const service of services) {
    for (const fault of Object.keys(FAULTS) as FaultName[]) {
      const row = FLOWS.map((flow) =>
        results.find((cell) => cell.service === service && cell.fault === fault && cell.flow === flow),
      );
      if (row.every((cell) => cell === undefined)) continue;
      const text = row.map((cell) => cell?.outcome ?? '—');
      lines.push(`| ${service} | ${fault} | ${text.join(' | ')} |`);
    }
  }
  const counts = new Map<Outcome, number>();
  for (const cell of results) counts.set(cell.outcome, (counts.get(cell.outcome) ?? 0) + 1);
  lines.push(
    '',
    `Totals: ${[...counts.entries()].map(([outcome, count]) => `${count} ${outcome}`).join(', ')} (${results.length} flows)`,
  );
  return lines.join('\n');
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Letters only: digits would be normalised out of a crash fingerprint's function names. */
function roundWord(n: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let word = '';
  let rest = n + Math.floor(Math.random() * 26 * 26) * 100;
  do {
    word += letters[rest % 26];
    rest = Math.floor(rest / 26);
  } while (rest > 0);
  return word;
}
