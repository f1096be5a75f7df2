import type {
  APIInteractionResponseChannelMessageWithSource,
  APIInteractionResponseDeferredChannelMessageWithSource,
  APIInteractionResponsePong,
  APIModalInteractionResponse,
} from 'discord-api-types/v10';
import { formatBugCustomId } from './custom-id.js';
import { ComponentTypes, Flags, ResponseTypes, TextInputStyles } from './discord-constants.js';

export const DISMISS_REASON_INPUT_ID = 'reason';
export const DISMISS_REASON_MAX_LENGTH = 1000;

export const pongResponse: APIInteractionResponsePong = { type: ResponseTypes.Pong };

/** "bugbot is thinking…": the processor edits it later through the interaction token. */
export function buildDeferredResponse(
  ephemeral: boolean,
): APIInteractionResponseDeferredChannelMessageWithSource {
  return ephemeral
    ? { type: ResponseTypes.DeferredChannelMessageWithSource, data: { flags: Flags.Ephemeral } }
    : { type: ResponseTypes.DeferredChannelMessageWithSource };
}

/**
 * A refusal only the asker sees. `content` is always our own wording: user input is never
 * echoed back, and nothing in it can ping anyone.
 */
export function buildRefusalResponse(content: string): APIInteractionResponseChannelMessageWithSource {
  return {
    type: ResponseTypes.ChannelMessageWithSource,
    data: { flags: Flags.Ephemeral, content, allowed_mentions: { parse: [] } },
  };
}

/**
 * Addition to the Discord surface in DESIGN.md: the `dismiss` button answers with a modal asking
 * for a reason instead of queueing anything. The modal's custom_id is `bug:dismiss:<bugId>`; its
 * submit (a MODAL_SUBMIT interaction) is what becomes the `discord.component` dismiss job.
 */
export function buildDismissModalResponse(bugId: string): APIModalInteractionResponse {
  return {
    type: ResponseTypes.Modal,
    data: {
      custom_id: formatBugCustomId('dismiss', bugId),
      title: 'Dismiss bug',
      components: [
        {
          type: ComponentTypes.Label,
          label: 'Why dismiss it?',
          description: 'Saved with the bug and shown on its card.',
          component: {
            type: ComponentTypes.TextInput,
            custom_id: DISMISS_REASON_INPUT_ID,
            style: TextInputStyles.Paragraph,
            required: true,
            min_length: 1,
            max_length: DISMISS_REASON_MAX_LENGTH,
          },
        },
      ],
    },
  };
}
