// @ts-check
import { renderChannelMessages, showModal } from './discord.js';
import { h, replaceChildren } from './dom.js';
import { REPORT_EXAMPLES } from './examples.js';
import { renderLinear, renderOps, renderPulls } from './panels.js';

/**
 * The console's page: one event stream in (the whole view, pushed by the stack on every change),
 * a few JSON posts out (interactions and reports, which the stack signs; the sandbox's own
 * `/_local/...` switches). No framework: each region is redrawn when its part of the view changed.
 *
 * @typedef {import('../console-view.js').ConsoleView} ConsoleView
 * @typedef {import('../console-view.js').ViewMessage} ViewMessage
 */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @returns {T}
 */
function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return /** @type {T} */ (element);
}

const ui = {
  live: byId('live'),
  maintainer: /** @type {HTMLInputElement} */ (byId('maintainer')),
  channels: byId('channels'),
  channelName: byId('channel-name'),
  messages: byId('messages'),
  commandForm: /** @type {HTMLFormElement} */ (byId('command-form')),
  commandWhere: /** @type {HTMLSelectElement} */ (byId('command-where')),
  messageCommandForm: /** @type {HTMLFormElement} */ (byId('message-command-form')),
  reportForm: /** @type {HTMLFormElement} */ (byId('report-form')),
  reportExamples: byId('report-examples'),
  reportResult: byId('report-result'),
  linear: byId('panel-linear'),
  pulls: byId('panel-pulls'),
  ops: byId('panel-ops'),
  modal: /** @type {HTMLDialogElement} */ (byId('modal')),
  toasts: byId('toasts'),
};

const state = {
  /** @type {ConsoleView | null} */
  view: null,
  /** @type {string | null} */
  channelId: null,
  /** Ephemeral messages the person dismissed ("Dismiss message"). */
  dismissed: new Set(),
  closedThreads: new Set(),
  /** @type {Map<string, boolean>} open state of disclosures, by key */
  open: new Map(),
  /** @type {Map<string, any>} pull request diffs, by pull request and head */
  diffs: new Map(),
  /** @type {Map<string, string>} the JSON each region was last drawn from */
  drawn: new Map(),
  /** @type {Record<string, unknown>} the device info of the example last picked */
  deviceInfo: {},
};

// ---------------------------------------------------------------------------------------------
// Talking to the stack

/**
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<{ status: number, body: any }>}
 */
async function postJson(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: text.slice(0, 300) };
  }
  return { status: response.status, body: parsed };
}

/**
 * @param {string} text
 * @param {'ok' | 'error' | 'info'} kind
 */
function toast(text, kind) {
  const note = h(
    'div',
    { class: `toast ${kind}`, 'data-testid': 'toast', role: kind === 'error' ? 'alert' : 'status' },
    text,
  );
  const close = h('button', { type: 'button', class: 'link-like', 'aria-label': 'Close' }, '×');
  close.addEventListener('click', () => note.remove());
  note.appendChild(close);
  ui.toasts.appendChild(note);
  setTimeout(() => note.remove(), kind === 'error' ? 15_000 : 5_000);
}

/**
 * A sandbox switch (`/_local/...`). A 404 from the GitHub and Linear switches means this stack
 * does not have them yet: said plainly rather than as a failure of the click.
 * @param {string} path
 * @param {unknown} body
 * @param {string} what
 */
async function post(path, body, what) {
  try {
    const { status, body: answer } = await postJson(path, body);
    if (status >= 200 && status < 300) {
      toast(`${what}: done.`, 'ok');
    } else if (status === 404 && /^\/_local\/(github|linear)\//.test(path)) {
      toast(
        `${what}: this stack has no ${path} endpoint yet (404), so the sandbox cannot do that here.`,
        'error',
      );
    } else {
      toast(
        `${what}: the stack answered ${status}${answer?.error ? ` (${String(answer.error)})` : ''}.`,
        'error',
      );
    }
  } catch (error) {
    toast(
      `${what}: the stack did not answer (${error instanceof Error ? error.message : String(error)}).`,
      'error',
    );
  }
}

function asMaintainer() {
  return ui.maintainer.checked;
}

/**
 * Sends one interaction through the stack (which builds and signs it) and follows up on the
 * answer: a modal opens as a form and its submit is the next interaction.
 * @param {Record<string, unknown>} request
 */
async function interact(request) {
  try {
    const { status, body } = await postJson('/_local/console/interactions', {
      ...request,
      maintainer: asMaintainer(),
    });
    if (status !== 200) {
      toast(`The console could not send that: ${String(body?.error ?? status)}`, 'error');
      return;
    }
    const response = body.response;
    if (response?.type === 9 && response.data) {
      const values = await showModal(ui.modal, response.data);
      if (!values) return;
      await interact({
        kind: 'modal-submit',
        customId: String(response.data.custom_id ?? ''),
        title: typeof response.data.title === 'string' ? response.data.title.slice(0, 45) : undefined,
        values,
        channelId: body.channelId,
        ...(body.threadId ? { threadId: body.threadId } : {}),
      });
    }
  } catch (error) {
    toast(`The stack did not answer (${error instanceof Error ? error.message : String(error)}).`, 'error');
  }
}

// ---------------------------------------------------------------------------------------------
// Drawing

/** @type {import('./discord.js').DiscordActions} */
const discordActions = {
  clickButton(message, customId, button) {
    button.disabled = true;
    button.classList.add('loading');
    void interact({ kind: 'button', customId, messageId: message.id }).finally(() => {
      button.disabled = false;
      button.classList.remove('loading');
    });
  },
  messageCommand(message, name) {
    void interact({
      kind: 'message-command',
      name,
      messageId: message.id,
      channelId: message.channelId,
      ...(message.threadId ? { threadId: message.threadId } : {}),
    });
  },
  dismissEphemeral(id) {
    state.dismissed.add(id);
    drawDiscord(true);
  },
  isDismissed: (id) => state.dismissed.has(id),
  isThreadClosed: (id) => state.closedThreads.has(id),
  toggleThread(id, open) {
    if (open) state.closedThreads.delete(id);
    else state.closedThreads.add(id);
  },
};

/** @type {import('./panels.js').PanelActions} */
const panelActions = {
  post,
  diff(pull) {
    const key = JSON.stringify([pull.repository, pull.number, pull.head, pull.base, pull.state]);
    const cached = state.diffs.get(key);
    if (cached) return cached;
    const loading = { state: 'loading' };
    state.diffs.set(key, loading);
    const [owner = '', repo = ''] = String(pull.repository ?? '').split('/');
    const path = `/_local/console/pulls/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/${Number(pull.number)}/diff`;
    fetch(path)
      .then(async (response) => {
        const body = await response.json();
        return response.ok
          ? { state: 'ready', diff: body }
          : { state: 'error', message: String(body?.error ?? response.status) };
      })
      .catch((error) => ({ state: 'error', message: `the diff did not load (${String(error)})` }))
      .then((loaded) => {
        state.diffs.set(key, loaded);
        drawPanels(true);
      });
    return loading;
  },
  isOpen: (key, byDefault) => state.open.get(key) ?? byDefault,
  setOpen(key, open) {
    state.open.set(key, open);
    if (open && key.startsWith('pull-diff:')) drawPanels(true);
  },
};

/**
 * Whether a region's data changed since it was last drawn (and notes the new data).
 * @param {string} region
 * @param {unknown} data
 */
function changed(region, data) {
  const json = JSON.stringify(data);
  if (state.drawn.get(region) === json) return false;
  state.drawn.set(region, json);
  return true;
}

/** @param {boolean} [force] */
function drawDiscord(force = false) {
  const view = state.view;
  if (!view) return;
  if (!view.discord.sandboxed) {
    if (changed('discord', 'real')) {
      replaceChildren(
        ui.messages,
        h('li', { class: 'empty' }, 'Discord is the real one in this stack: use your Discord server.'),
      );
    }
    return;
  }
  const channels = view.discord.channels;
  if (!state.channelId || !channels.some((channel) => channel.id === state.channelId)) {
    state.channelId = (channels.find((channel) => channel.name === 'bug-reports') ?? channels[0])?.id ?? null;
    force = true;
  }
  const channel = channels.find((candidate) => candidate.id === state.channelId);
  if (!channel) return;
  if (changed('channels', [channels.map((c) => [c.id, c.name]), state.channelId]) || force) {
    replaceChildren(
      ui.channels,
      channels.map((candidate) => {
        const button = h(
          'button',
          {
            type: 'button',
            class: candidate.id === state.channelId ? 'channel-link selected' : 'channel-link',
            'aria-current': candidate.id === state.channelId ? 'true' : undefined,
          },
          h('span', { class: 'hash', 'aria-hidden': 'true' }, '#'),
          candidate.name,
        );
        button.addEventListener('click', () => {
          state.channelId = candidate.id;
          drawDiscord(true);
        });
        return button;
      }),
    );
    ui.channelName.textContent = channel.name;
  }
  if (!changed('messages', channel) && !force) return;
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const scrollTop = list.scrollTop;
  replaceChildren(list, renderChannelMessages(channel, discordActions));
  list.scrollTop = atBottom ? list.scrollHeight : scrollTop;
  drawWhere(channel);
}

/**
 * The composer's "where": the channel or one of its threads.
 * @param {import('../console-view.js').ViewChannel} channel
 */
function drawWhere(channel) {
  const threads = channel.messages.flatMap((message) => (message.thread ? [message.thread] : []));
  const current = ui.commandWhere.value;
  replaceChildren(
    ui.commandWhere,
    h('option', { value: '' }, `#${channel.name}`),
    threads.map((thread) => h('option', { value: thread.id }, `thread: ${thread.name}`)),
  );
  if (threads.some((thread) => thread.id === current)) ui.commandWhere.value = current;
}

/** @param {boolean} [force] */
function drawPanels(force = false) {
  const view = state.view;
  if (!view) return;
  if (changed('linear', view.linear) || force)
    replaceChildren(ui.linear, renderLinear(view.linear, panelActions));
  if (changed('pulls', view.github) || force)
    replaceChildren(ui.pulls, renderPulls(view.github, panelActions));
  if (changed('ops', [view.queues, view.services]) || force)
    replaceChildren(ui.ops, renderOps(view, panelActions));
  setBadge('linear', view.linear.issues.length);
  setBadge('pulls', view.github.pulls.length);
  setBadge('ops', view.queues.dlq.count, view.queues.dlq.count > 0);
}

/**
 * @param {string} tab
 * @param {number} count
 * @param {boolean} [alert]
 */
function setBadge(tab, count, alert = false) {
  const badge = document.querySelector(`.tabs [data-tab="${tab}"] .badge`);
  if (!badge) return;
  badge.textContent = count > 0 ? String(count) : '';
  badge.classList.toggle('alert', alert);
}

function draw() {
  drawDiscord();
  drawPanels();
}

// ---------------------------------------------------------------------------------------------
// Wiring

function connect() {
  const source = new EventSource('/_local/console/events');
  source.addEventListener('open', () => {
    ui.live.textContent = 'live';
    ui.live.className = 'live on';
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself (the stack sends `retry: 1000`).
    ui.live.textContent = 'reconnecting…';
    ui.live.className = 'live off';
  });
  source.addEventListener('view', (event) => {
    state.view = JSON.parse(/** @type {MessageEvent} */ (event).data);
    draw();
    // For `npm run bench`: when the page first showed the sandbox.
    if (performance.getEntriesByName('console:first-view').length === 0)
      performance.mark('console:first-view');
    document.body.dataset.viewVersion = String(Number(document.body.dataset.viewVersion ?? 0) + 1);
  });
}

for (const tab of document.querySelectorAll('[data-tab]')) {
  tab.addEventListener('click', () => {
    for (const other of document.querySelectorAll('[data-tab]')) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      const panel = document.getElementById(`panel-${other.getAttribute('data-tab')}`);
      if (panel) panel.hidden = !selected;
    }
  });
}

ui.commandForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(ui.commandForm);
  const name = String(data.get('name') ?? 'status');
  const threadId = String(data.get('where') ?? '');
  /** @param {string} field */
  const option = (field) => {
    const value = String(data.get(field) ?? '').trim();
    return value || undefined;
  };
  void interact({
    kind: 'command',
    name,
    options: {
      issue: ['contextualize', 'fix', 'status'].includes(name) ? option('issue') : undefined,
      repo: ['contextualize', 'fix'].includes(name) ? option('repo') : undefined,
      instructions: name === 'fix' ? option('instructions') : undefined,
    },
    channelId: state.channelId,
    ...(threadId ? { threadId } : {}),
  });
});

const commandName = /** @type {HTMLSelectElement} */ (byId('command-name'));
function showCommandOptions() {
  const name = commandName.value;
  for (const field of ui.commandForm.querySelectorAll('[data-for]')) {
    const wanted = (field.getAttribute('data-for') ?? '').split(' ');
    /** @type {HTMLElement} */ (field).hidden = !wanted.includes(name);
  }
}
commandName.addEventListener('change', showCommandOptions);
showCommandOptions();

ui.messageCommandForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const data = new FormData(ui.messageCommandForm);
  const submitter = /** @type {SubmitEvent} */ (event).submitter;
  const name = submitter?.getAttribute('value') === 'Draft fix' ? 'Draft fix' : 'Contextualize bug';
  const threadId = ui.commandWhere.value;
  void interact({
    kind: 'message-command',
    name,
    text: String(data.get('text') ?? ''),
    author: String(data.get('author') ?? '') || undefined,
    channelId: state.channelId,
    ...(threadId ? { threadId } : {}),
  });
});

for (const example of REPORT_EXAMPLES) {
  const button = h(
    'button',
    { type: 'button', class: 'button secondary', 'data-example': example.id },
    example.label,
  );
  button.addEventListener('click', () => {
    const form = ui.reportForm;
    for (const name of [
      'description',
      'user_id',
      'user_email',
      'app_version',
      'url',
      'console_logs',
      'posthog_session_id',
    ]) {
      const field = /** @type {HTMLInputElement | HTMLTextAreaElement | null} */ (
        form.elements.namedItem(name)
      );
      if (field) field.value = typeof example.report[name] === 'string' ? String(example.report[name]) : '';
    }
    state.deviceInfo = /** @type {Record<string, unknown>} */ (example.report.device_info ?? {});
  });
  ui.reportExamples.appendChild(button);
}

ui.reportForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const data = new FormData(ui.reportForm);
  /** @type {Record<string, unknown>} */
  const report = { id: `r_${Date.now().toString(36)}`, created_at: new Date().toISOString() };
  for (const [name, value] of data.entries()) {
    const text = String(value).trim();
    if (text) report[name] = text;
  }
  if (Object.keys(state.deviceInfo).length > 0) report.device_info = state.deviceInfo;
  replaceChildren(ui.reportResult, 'Sending…');
  try {
    const { status, body } = await postJson('/_local/console/reports', report);
    const answer = body?.body ?? body;
    const summary =
      body?.status === 202
        ? `202 Accepted: queued as ${String(answer?.bugId ?? '?')}. Its card appears in #bug-reports once triaged.`
        : `${String(body?.status ?? status)}: ${String(answer?.error ?? answer?.message ?? JSON.stringify(answer))}`;
    replaceChildren(ui.reportResult, h('span', { class: body?.status === 202 ? 'ok' : 'error' }, summary));
  } catch (error) {
    replaceChildren(
      ui.reportResult,
      h('span', { class: 'error' }, `The stack did not answer (${String(error)}).`),
    );
  }
});

connect();
