// @ts-check
import { parseUnifiedDiff } from './diff.js';
import { externalLink, h, markdown, time } from './dom.js';

/**
 * The side panels: the sandbox Linear (issues, their comments as Markdown, attachments), the
 * GitHub sandbox (pull requests with bodies and diffs), the queues with the DLQ, and the faults
 * switch per service.
 *
 * @typedef {import('../console-view.js').ConsoleView} ConsoleView
 * @typedef {{
 *   post(path: string, body: unknown, what: string): Promise<void>,
 *   diff(pull: Record<string, any>): { state: 'loading' } | { state: 'error', message: string } | { state: 'ready', diff: Record<string, any> },
 *   isOpen(key: string, byDefault: boolean): boolean,
 *   setOpen(key: string, open: boolean): void,
 * }} PanelActions
 */

/**
 * A `<details>` whose open state survives re-rendering.
 * @param {string} key
 * @param {boolean} byDefault
 * @param {PanelActions} actions
 * @param {Node} summary
 * @param {...(Node | null)} children
 */
function disclosure(key, byDefault, actions, summary, ...children) {
  let open = actions.isOpen(key, byDefault);
  const details = h('details', { open, 'data-key': key }, h('summary', null, summary), ...children);
  // Chromium also fires `toggle` for a details element created open: only a change is news.
  details.addEventListener('toggle', () => {
    if (details.open === open) return;
    open = details.open;
    actions.setOpen(key, open);
  });
  return details;
}

/**
 * @param {string} label
 * @param {string} className
 * @param {() => void} onClick
 */
function actionButton(label, className, onClick) {
  const button = h('button', { type: 'button', class: `button ${className}` }, label);
  button.addEventListener('click', onClick);
  return button;
}

/**
 * @param {ConsoleView['linear']} linear
 * @param {PanelActions} actions
 */
export function renderLinear(linear, actions) {
  if (!linear.sandboxed)
    return [h('p', { class: 'empty' }, 'Linear is the real one in this stack: open it in Linear.')];
  if (linear.issues.length === 0)
    return [
      h('p', { class: 'empty' }, 'No issues yet. Click "Create Issue" on a bug card (as a maintainer).'),
    ];
  return linear.issues.map((issue, index) => {
    const closed = /^(done|canceled|cancelled|duplicate)$/i.test(issue.state);
    const path = `/_local/linear/issues/${encodeURIComponent(issue.identifier)}/state`;
    return h(
      'article',
      { class: 'issue', 'data-identifier': issue.identifier, 'data-testid': 'linear-issue' },
      h(
        'header',
        null,
        h('span', { class: 'identifier' }, issue.identifier),
        h('span', { class: `state state-${issue.state.toLowerCase().replace(/\s+/g, '-')}` }, issue.state),
        h('span', { class: 'issue-title' }, issue.title),
      ),
      h(
        'div',
        { class: 'row-actions' },
        closed
          ? null
          : actionButton(
              'Done',
              'success',
              () => void actions.post(path, { type: 'completed' }, `Moving ${issue.identifier} to Done`),
            ),
        closed
          ? null
          : actionButton(
              'Cancel',
              'secondary',
              () => void actions.post(path, { type: 'canceled' }, `Canceling ${issue.identifier}`),
            ),
        externalLink(issue.url, 'Open in Linear'),
      ),
      issue.description
        ? disclosure(
            `issue-description:${issue.id}`,
            index === 0,
            actions,
            h('span', null, 'Description'),
            markdown(issue.description),
          )
        : null,
      issue.attachments.length > 0
        ? h(
            'ul',
            { class: 'attachments' },
            issue.attachments.map((attachment) =>
              h(
                'li',
                null,
                externalLink(attachment.url, attachment.title || attachment.url),
                attachment.subtitle ? ` — ${attachment.subtitle}` : '',
              ),
            ),
          )
        : null,
      h(
        'ol',
        { class: 'comments' },
        issue.comments.map((comment) =>
          h(
            'li',
            { class: 'comment', 'data-testid': 'linear-comment' },
            h('div', { class: 'comment-meta' }, 'bugbot commented ', time(comment.createdAt)),
            markdown(comment.body),
          ),
        ),
      ),
    );
  });
}

/**
 * @param {ConsoleView['github']} github
 * @param {PanelActions} actions
 */
export function renderPulls(github, actions) {
  if (!github.sandboxed)
    return [
      h('p', { class: 'empty' }, 'GitHub is the real one in this stack: open the repository on GitHub.'),
    ];
  const pulls = [...github.pulls].reverse();
  const issues = [...github.issues].reverse();
  const parts = [];
  if (pulls.length === 0)
    parts.push(
      h('p', { class: 'empty' }, 'No pull requests yet. Click "Draft Fix" on a bug card (as a maintainer).'),
    );
  for (const pull of pulls) {
    const repository = String(pull.repository ?? '');
    const number = Number(pull.number);
    const open = pull.state === 'open';
    const state =
      pull.merged === true || pull.merged_at
        ? 'merged'
        : open && pull.draft
          ? 'draft'
          : String(pull.state ?? '');
    const base = `/_local/github/pulls/${number}`;
    const diffKey = `pull-diff:${repository}#${number}`;
    const diffOpen = actions.isOpen(diffKey, true);
    parts.push(
      h(
        'article',
        { class: 'pull', 'data-number': number, 'data-testid': 'pull-request' },
        h(
          'header',
          null,
          h('span', { class: `state state-${state}` }, state),
          h('span', { class: 'pull-title' }, String(pull.title ?? '')),
          h('span', { class: 'pull-number' }, ` #${number}`),
        ),
        h(
          'div',
          { class: 'branches' },
          h('code', null, String(pull.base ?? '')),
          ' ← ',
          h('code', null, String(pull.head ?? '')),
        ),
        h(
          'div',
          { class: 'row-actions' },
          open
            ? actionButton(
                'Merge',
                'success',
                () => void actions.post(`${base}/merge`, {}, `Merging #${number}`),
              )
            : null,
          open
            ? actionButton(
                'Close',
                'secondary',
                () => void actions.post(`${base}/close`, {}, `Closing #${number}`),
              )
            : null,
          externalLink(String(pull.url ?? ''), 'Open on GitHub'),
        ),
        disclosure(
          diffKey,
          true,
          actions,
          h('span', null, 'Files changed'),
          diffOpen ? renderDiff(actions.diff(pull)) : null,
        ),
        disclosure(
          `pull-body:${repository}#${number}`,
          false,
          actions,
          h('span', null, 'Description'),
          markdown(String(pull.body ?? '')),
        ),
      ),
    );
  }
  if (issues.length > 0) {
    parts.push(h('h3', null, 'GitHub issues'));
    for (const issue of issues) {
      parts.push(
        h(
          'article',
          { class: 'gh-issue' },
          h(
            'header',
            null,
            h('span', { class: `state state-${String(issue.state)}` }, String(issue.state ?? '')),
            h('span', null, ` #${String(issue.number)} ${String(issue.title ?? '')}`),
          ),
          disclosure(
            `gh-issue:${String(issue.repository)}#${String(issue.number)}`,
            false,
            actions,
            h('span', null, 'Body'),
            markdown(String(issue.body ?? '')),
          ),
        ),
      );
    }
  }
  return parts;
}

/**
 * @param {ReturnType<PanelActions['diff']>} loaded
 */
function renderDiff(loaded) {
  if (loaded.state === 'loading') return h('p', { class: 'empty' }, 'Loading the diff…');
  if (loaded.state === 'error') return h('p', { class: 'error' }, loaded.message);
  const diff = loaded.diff;
  if (diff.kind !== 'diff') return h('p', { class: 'empty' }, String(diff.reason ?? 'no diff'));
  const files = parseUnifiedDiff(String(diff.text ?? ''));
  if (files.length === 0) return h('p', { class: 'empty' }, 'No changes between the branches.');
  return h(
    'div',
    { class: 'diff', 'data-testid': 'diff' },
    files.map((file) =>
      h(
        'section',
        { class: 'diff-file' },
        h(
          'header',
          null,
          h(
            'span',
            { class: 'diff-path' },
            file.status === 'renamed' ? `${file.oldPath} → ${file.newPath}` : file.newPath,
          ),
          h(
            'span',
            { class: 'diff-stat' },
            h('span', { class: 'add' }, `+${file.additions}`),
            ' ',
            h('span', { class: 'del' }, `−${file.deletions}`),
          ),
          file.status !== 'modified' ? h('span', { class: 'diff-status' }, file.status) : null,
        ),
        file.binary ? h('p', { class: 'empty' }, 'Binary file') : null,
        h(
          'table',
          { class: 'diff-lines' },
          h(
            'tbody',
            null,
            file.hunks.flatMap((hunk) => [
              h('tr', { class: 'hunk' }, h('td', { colspan: 3 }, hunk.header)),
              ...hunk.lines.map((line) =>
                h(
                  'tr',
                  { class: `line ${line.kind}` },
                  h('td', { class: 'num' }, line.oldLine ?? ''),
                  h('td', { class: 'num' }, line.newLine ?? ''),
                  h(
                    'td',
                    { class: 'code' },
                    `${line.kind === 'add' ? '+' : line.kind === 'del' ? '-' : ' '}${line.text}`,
                  ),
                ),
              ),
            ]),
          ),
        ),
      ),
    ),
    diff.truncated
      ? h('p', { class: 'empty' }, 'The diff is longer than the console shows; the rest is cut.')
      : null,
  );
}

/** @type {{ label: string, fault: Record<string, unknown> | null }[]} */
const FAULT_PRESETS = [
  { label: 'Healthy', fault: null },
  { label: 'Down (503)', fault: { failRate: 1, status: 503 } },
  { label: 'Errors half the time (500)', fault: { failRate: 0.5, status: 500 } },
  { label: 'Rate-limited (429)', fault: { failRate: 1, status: 429 } },
  { label: 'Fails the next 2 calls (500)', fault: { failNext: 2, status: 500 } },
  { label: 'Slow (2 s per call)', fault: { latencyMs: 2000 } },
  { label: 'Behind a failing proxy (HTML 502)', fault: { failRate: 1, status: 502, body: 'html' } },
  { label: 'Answers cut off (truncated JSON)', fault: { failRate: 1, status: 200, body: 'truncated' } },
];

/**
 * @param {Record<string, any> | null} fault
 */
function describeFault(fault) {
  if (!fault) return 'healthy';
  const parts = [];
  const what =
    fault.body === 'truncated' ? 'cut off' : fault.body === 'html' ? `an HTML ${fault.status}` : fault.status;
  if (typeof fault.failNext === 'number') parts.push(`fails the next ${fault.failNext} with ${what}`);
  else if (fault.failRate > 0)
    parts.push(
      `${Math.round(fault.failRate * 100)}% answered ${fault.body === 'truncated' ? 'cut off' : what}`,
    );
  if (fault.latencyMs > 0) parts.push(`+${fault.latencyMs} ms`);
  return parts.join(', ') || 'healthy';
}

/**
 * @param {ConsoleView} view
 * @param {PanelActions} actions
 */
export function renderOps(view, actions) {
  const { jobs, dlq } = view.queues;
  const queues = h(
    'section',
    { class: 'queues' },
    h('h3', null, 'Queues'),
    h(
      'dl',
      { class: 'counts' },
      h('dt', null, 'jobs waiting'),
      h('dd', { 'data-testid': 'jobs-visible' }, jobs.visible),
      h('dt', null, 'jobs in flight'),
      h('dd', { 'data-testid': 'jobs-in-flight' }, jobs.inFlight),
      h('dt', null, 'dead letters'),
      h('dd', { 'data-testid': 'dlq-count', class: dlq.count > 0 ? 'alert' : '' }, dlq.count),
    ),
    dlq.count > 0
      ? h(
          'table',
          { class: 'dlq' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'kind'),
              h('th', null, 'idempotency key'),
              h('th', null, 'receives'),
              h('th', null, 'failure'),
              h('th', null, 'sent'),
            ),
          ),
          h(
            'tbody',
            null,
            dlq.messages.map((message) =>
              h(
                'tr',
                null,
                h('td', null, message.kind),
                h('td', null, h('code', null, message.idempotencyKey)),
                h('td', null, message.receiveCount),
                h('td', null, message.failure),
                h('td', null, time(message.sentAt)),
              ),
            ),
          ),
        )
      : h(
          'p',
          { class: 'empty' },
          'The DLQ is empty: every job ended done or refused with a visible message.',
        ),
    dlq.count > dlq.messages.length
      ? h('p', { class: 'empty' }, `…and ${dlq.count - dlq.messages.length} more (npm run dlq -- list).`)
      : null,
  );
  const faults = h(
    'section',
    { class: 'faults' },
    h('h3', null, 'Faults'),
    h(
      'p',
      { class: 'hint' },
      'Make a sandbox misbehave, as POST /_local/faults does; bugbot retries, degrades or dead-letters.',
    ),
    h(
      'table',
      null,
      h(
        'tbody',
        null,
        view.services.map((service) => {
          const select = h(
            'select',
            {
              'aria-label': `fault for ${service.service}`,
              'data-service': service.service,
              disabled: !service.sandboxed,
            },
            h('option', { value: '' }, 'Change…'),
            FAULT_PRESETS.map((preset, index) => h('option', { value: index }, preset.label)),
          );
          select.addEventListener('change', () => {
            const preset = FAULT_PRESETS[Number(select.value)];
            if (!preset) return;
            const body = preset.fault
              ? { service: service.service, ...preset.fault }
              : { service: service.service, clear: true };
            void actions.post('/_local/faults', body, `Setting ${service.service}: ${preset.label}`);
          });
          return h(
            'tr',
            { 'data-service': service.service },
            h('th', null, service.service),
            h(
              'td',
              { class: service.fault ? 'fault-on' : 'fault-off', 'data-testid': `fault-${service.service}` },
              service.sandboxed ? describeFault(service.fault) : 'real service',
            ),
            h('td', null, select),
          );
        }),
      ),
    ),
  );
  return [queues, faults];
}
