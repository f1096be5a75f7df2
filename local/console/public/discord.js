// @ts-check
import { externalLink, h, inlineMarkdown, markdown, time } from './dom.js';

/**
 * The sandbox Discord drawn as Discord draws it: messages with their author, embeds (colour bar,
 * author, title, description, fields three to a row, footer), components as sent (buttons with
 * their label, style and disabled state; link buttons; other kinds named), interaction answers
 * with "Only you can see this", threads under their starter message, and modals as forms.
 *
 * @typedef {import('../console-view.js').ViewMessage} ViewMessage
 * @typedef {import('../console-view.js').ViewChannel} ViewChannel
 * @typedef {{
 *   clickButton(message: ViewMessage, customId: string, button: HTMLButtonElement): void,
 *   messageCommand(message: ViewMessage, name: 'Contextualize bug' | 'Draft fix'): void,
 *   dismissEphemeral(id: string): void,
 *   isDismissed(id: string): boolean,
 *   isThreadClosed(id: string): boolean,
 *   toggleThread(id: string, open: boolean): void,
 * }} DiscordActions
 * @typedef {Record<string, any>} Json
 */

const BUTTON_STYLES = /** @type {Record<number, string>} */ ({
  1: 'primary',
  2: 'secondary',
  3: 'success',
  4: 'danger',
  5: 'link',
  6: 'premium',
});

/**
 * @param {ViewChannel} channel
 * @param {DiscordActions} actions
 */
export function renderChannelMessages(channel, actions) {
  return channel.messages
    .filter((message) => !actions.isDismissed(message.id))
    .map((message) => renderMessage(message, actions));
}

/**
 * @param {ViewMessage} message
 * @param {DiscordActions} actions
 * @returns {HTMLElement}
 */
function renderMessage(message, actions) {
  const classes = ['message'];
  if (message.ephemeral) classes.push('ephemeral');
  if (message.author.bot) classes.push('from-bot');
  const item = h('li', {
    class: classes.join(' '),
    'data-message-id': message.id,
    // A card is a channel message with an embed; an interaction answer is not a card.
    'data-testid': message.embeds.length > 0 && !message.interaction ? 'card' : 'message',
    'data-interaction': message.interaction ? 'true' : undefined,
  });
  if (message.interaction) {
    item.appendChild(
      h(
        'div',
        { class: 'interaction-header' },
        h('span', { class: 'reply-arrow', 'aria-hidden': 'true' }, '↱'),
        h('strong', null, message.interaction.user),
        ` ${message.interaction.label}`,
      ),
    );
  }
  const body = h(
    'div',
    { class: 'message-body' },
    h(
      'div',
      { class: 'message-meta' },
      h('span', { class: 'author' }, message.author.name),
      message.author.bot ? h('span', { class: 'bot-tag' }, 'APP') : null,
      time(message.at),
      message.edited ? h('span', { class: 'edited' }, '(edited)') : null,
    ),
  );
  if (message.pending) {
    body.appendChild(
      h('div', { class: 'thinking' }, 'bugbot is thinking', h('span', { class: 'dots' }, '…')),
    );
  }
  if (message.failed) body.appendChild(h('div', { class: 'failed' }, message.failed));
  if (message.content) body.appendChild(markdown(message.content, 'discord'));
  for (const embed of message.embeds) body.appendChild(renderEmbed(/** @type {Json} */ (embed)));
  if (message.components.length > 0) body.appendChild(renderComponents(message.components, message, actions));
  if (message.ephemeral) {
    const dismiss = h('button', { type: 'button', class: 'link-like' }, 'Dismiss message');
    dismiss.addEventListener('click', () => actions.dismissEphemeral(message.id));
    body.appendChild(
      h(
        'div',
        { class: 'ephemeral-note' },
        h('span', { class: 'eye', 'aria-hidden': 'true' }),
        'Only you can see this · ',
        dismiss,
      ),
    );
  }
  if (message.human) body.appendChild(renderApps(message, actions));
  item.appendChild(
    h('div', { class: 'avatar', 'aria-hidden': 'true' }, message.author.name.slice(0, 1).toUpperCase()),
  );
  item.appendChild(body);
  if (message.thread) item.appendChild(renderThread(message.thread, actions));
  return item;
}

/**
 * @param {NonNullable<ViewMessage['thread']>} thread
 * @param {DiscordActions} actions
 */
function renderThread(thread, actions) {
  const details = h(
    'details',
    { class: 'thread', 'data-thread-id': thread.id, open: !actions.isThreadClosed(thread.id) },
    h(
      'summary',
      null,
      h('span', { class: 'thread-label' }, 'Thread'),
      h('span', { class: 'thread-name' }, thread.name),
      h(
        'span',
        { class: 'thread-count' },
        ` · ${thread.messages.length} message${thread.messages.length === 1 ? '' : 's'}`,
      ),
    ),
    h(
      'ol',
      { class: 'thread-messages' },
      thread.messages
        .filter((message) => !actions.isDismissed(message.id))
        .map((message) => renderMessage(message, actions)),
    ),
  );
  details.addEventListener('toggle', () => actions.toggleThread(thread.id, details.open));
  return details;
}

/**
 * Discord's "Apps" menu on a person's message: the message commands.
 * @param {ViewMessage} message
 * @param {DiscordActions} actions
 */
function renderApps(message, actions) {
  const contextualize = h('button', { type: 'button' }, 'Contextualize bug');
  const fix = h('button', { type: 'button' }, 'Draft fix');
  contextualize.addEventListener('click', () => actions.messageCommand(message, 'Contextualize bug'));
  fix.addEventListener('click', () => actions.messageCommand(message, 'Draft fix'));
  return h(
    'details',
    { class: 'apps' },
    h('summary', null, 'Apps'),
    h('div', { class: 'apps-menu' }, contextualize, fix),
  );
}

/**
 * @param {Json} embed
 * @returns {HTMLElement}
 */
export function renderEmbed(embed) {
  const box = h('div', { class: 'embed', 'data-testid': 'embed' });
  if (typeof embed.color === 'number') {
    // CSSOM, not a style attribute: the page's policy allows no inline style markup.
    box.style.borderLeftColor = `#${(embed.color & 0xffffff).toString(16).padStart(6, '0')}`;
  }
  const author = embed.author;
  if (author && typeof author.name === 'string') {
    box.appendChild(
      h(
        'div',
        { class: 'embed-author' },
        typeof author.url === 'string' ? externalLink(author.url, author.name) : author.name,
      ),
    );
  }
  if (typeof embed.title === 'string') {
    const title = inlineMarkdown(embed.title, 'discord');
    box.appendChild(
      h(
        'div',
        { class: 'embed-title' },
        typeof embed.url === 'string' ? externalLink(embed.url, title) : title,
      ),
    );
  }
  if (typeof embed.description === 'string') {
    box.appendChild(h('div', { class: 'embed-description' }, markdown(embed.description, 'discord')));
  }
  if (Array.isArray(embed.fields) && embed.fields.length > 0) {
    box.appendChild(
      h(
        'div',
        { class: 'embed-fields' },
        embed.fields.map((/** @type {Json} */ field) =>
          h(
            'div',
            { class: field.inline ? 'embed-field inline' : 'embed-field' },
            h('div', { class: 'embed-field-name' }, inlineMarkdown(String(field.name ?? ''), 'discord')),
            h('div', { class: 'embed-field-value' }, markdown(String(field.value ?? ''), 'discord')),
          ),
        ),
      ),
    );
  }
  for (const kind of ['image', 'thumbnail']) {
    const url = embed[kind]?.url;
    // Never loaded: an embed image could point anywhere. Named, with its link.
    if (typeof url === 'string')
      box.appendChild(h('div', { class: 'embed-media' }, externalLink(url, `${kind}: ${url}`)));
  }
  const footer = [];
  if (typeof embed.footer?.text === 'string') footer.push(h('span', null, embed.footer.text));
  if (typeof embed.timestamp === 'string') {
    if (footer.length > 0) footer.push(h('span', { class: 'sep' }, ' • '));
    footer.push(time(embed.timestamp));
  }
  if (footer.length > 0) box.appendChild(h('div', { class: 'embed-footer' }, footer));
  return box;
}

/**
 * @param {readonly unknown[]} components
 * @param {ViewMessage} message
 * @param {DiscordActions} actions
 */
function renderComponents(components, message, actions) {
  return h(
    'div',
    { class: 'components' },
    components.map((component) => renderComponent(/** @type {Json} */ (component), message, actions)),
  );
}

/**
 * @param {Json} component
 * @param {ViewMessage} message
 * @param {DiscordActions} actions
 * @returns {HTMLElement}
 */
function renderComponent(component, message, actions) {
  switch (component.type) {
    case 1: // action row
      return h(
        'div',
        { class: 'action-row' },
        (Array.isArray(component.components) ? component.components : []).map((/** @type {Json} */ child) =>
          renderComponent(child, message, actions),
        ),
      );
    case 2:
      return renderButton(component, message, actions);
    case 3:
    case 5:
    case 6:
    case 7:
    case 8:
      return h(
        'select',
        { class: 'select-menu', disabled: true, title: 'Select menus are shown, not used, in the console' },
        h('option', null, String(component.placeholder ?? 'Make a selection')),
        (Array.isArray(component.options) ? component.options : []).map((/** @type {Json} */ option) =>
          h('option', null, String(option.label ?? '')),
        ),
      );
    case 10: // text display
      return markdown(String(component.content ?? ''), 'discord');
    case 14: // separator
      return h('hr', { class: 'separator' });
    case 9: // section
    case 17: // container
      return h(
        'div',
        { class: component.type === 17 ? 'container' : 'section' },
        (Array.isArray(component.components) ? component.components : []).map((/** @type {Json} */ child) =>
          renderComponent(child, message, actions),
        ),
        component.accessory ? renderComponent(component.accessory, message, actions) : null,
      );
    default:
      return h('div', { class: 'unsupported' }, `(a component of type ${String(component.type)})`);
  }
}

/**
 * @param {Json} button
 * @param {ViewMessage} message
 * @param {DiscordActions} actions
 */
function renderButton(button, message, actions) {
  const style = BUTTON_STYLES[Number(button.style)] ?? 'secondary';
  const label = [
    button.emoji?.name ? h('span', { class: 'emoji' }, String(button.emoji.name)) : null,
    typeof button.label === 'string' ? button.label : null,
  ];
  if (style === 'link') {
    if (button.disabled) return h('button', { type: 'button', class: 'button link', disabled: true }, label);
    const link = externalLink(
      String(button.url ?? ''),
      label,
      h('span', { class: 'external', 'aria-hidden': 'true' }, ' ↗'),
    );
    link.classList.add('button', 'link');
    return link;
  }
  const element = h(
    'button',
    {
      type: 'button',
      class: `button ${style}`,
      disabled: button.disabled === true,
      'data-custom-id': button.custom_id,
    },
    label,
  );
  if (typeof button.custom_id === 'string' && !button.disabled) {
    const customId = button.custom_id;
    element.addEventListener('click', () => actions.clickButton(message, customId, element));
  }
  return element;
}

/**
 * A modal (interaction response type 9) as a form in a dialog. Resolves with the submitted values,
 * or null when cancelled.
 * @param {HTMLDialogElement} dialog
 * @param {Json} data
 * @returns {Promise<{ customId: string, value: string, inActionRow?: boolean }[] | null>}
 */
export function showModal(dialog, data) {
  /** @type {{ customId: string, input: HTMLInputElement | HTMLTextAreaElement, inActionRow: boolean }[]} */
  const inputs = [];
  /**
   * @param {Json} input
   * @param {string | undefined} label
   * @param {string | undefined} description
   * @param {boolean} inActionRow
   */
  const field = (input, label, description, inActionRow) => {
    const id = `modal-input-${inputs.length}`;
    const props = {
      id,
      name: String(input.custom_id ?? ''),
      required: input.required !== false,
      minlength: typeof input.min_length === 'number' ? input.min_length : undefined,
      maxlength: typeof input.max_length === 'number' ? input.max_length : undefined,
      placeholder: typeof input.placeholder === 'string' ? input.placeholder : undefined,
    };
    const control =
      input.style === 2 ? h('textarea', { ...props, rows: 4 }) : h('input', { ...props, type: 'text' });
    if (typeof input.value === 'string') control.value = input.value;
    inputs.push({ customId: String(input.custom_id ?? ''), input: control, inActionRow });
    return h(
      'div',
      { class: 'modal-field' },
      h(
        'label',
        { for: id },
        label ?? '',
        input.required !== false ? h('span', { class: 'required' }, ' *') : null,
      ),
      description ? h('div', { class: 'modal-description' }, description) : null,
      control,
    );
  };
  const fields = (Array.isArray(data.components) ? data.components : []).map(
    (/** @type {Json} */ component) => {
      if (component.type === 18 && component.component?.type === 4)
        return field(component.component, component.label, component.description, false);
      if (component.type === 1 && component.components?.[0]?.type === 4)
        return field(component.components[0], component.components[0].label, undefined, true);
      if (component.type === 10) return markdown(String(component.content ?? ''), 'discord');
      return h('div', { class: 'unsupported' }, `(a component of type ${String(component.type)})`);
    },
  );
  const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
  const submit = h('button', { type: 'submit', class: 'button primary' }, 'Submit');
  const form = h(
    'form',
    { class: 'modal', method: 'dialog' },
    h('h2', null, String(data.title ?? 'bugbot')),
    fields,
    h('div', { class: 'modal-actions' }, cancel, submit),
  );
  dialog.replaceChildren(form);
  return new Promise((resolve) => {
    let settled = false;
    /** @param {{ customId: string, value: string, inActionRow?: boolean }[] | null} value */
    const settle = (value) => {
      if (settled) return;
      settled = true;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    cancel.addEventListener('click', () => settle(null));
    dialog.addEventListener('close', () => settle(null), { once: true });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      settle(
        inputs.map(({ customId, input, inActionRow }) => ({
          customId,
          value: input.value,
          ...(inActionRow ? { inActionRow: true } : {}),
        })),
      );
    });
    dialog.showModal();
    inputs[0]?.input.focus();
  });
}
