import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildInteraction,
  buildMember,
  type Sandbox,
  signInteraction,
} from './discord-interaction-builder.js';
import { resolveSigningKey } from './discord-signing-key.js';
import type { LocalKeys } from './local-keys.js';
import { type LocalPublicConfig, SANDBOX_MAINTAINER_ROLE_ID } from './local-stack.js';

/**
 * `npm run discord -- <command>`: sends interactions to the local stack signed as Discord signs
 * them (Ed25519 over timestamp + body, with the key pair the stack made in `.local/`), then
 * waits for bugbot's answer in the sandbox Discord and prints it.
 */

const usage = `usage: npm run discord -- <command> [options]

commands
  contextualize [--issue ENG-1] [--repo URL]          /bugbot contextualize
  fix [--issue ENG-1] [--repo URL] [--instructions T]  /bugbot fix
  status [--issue ENG-1]                               /bugbot status
  dashboard                                            /bugbot dashboard
  contextualize-message "<text>" [--author NAME]       "Contextualize bug" on a message with that text
  fix-message "<text>" [--author NAME]                 "Draft fix" on a message with that text
  split <bugId>                                        /bugbot split: a folded report back out, as a bug of its own
  merge <bugId> <intoId>                               /bugbot merge: mark a bug a duplicate of another
  button <create_issue|draft_fix|dismiss|details> <bugId>   click a bug card button
  button split <bugId>                                 click "Split" on View Details (bugId: the folded report)
  dismiss <bugId> --reason "<why>"                     submit the dismiss modal

environment (as for \`npm start\`, also read from .env)
  DISCORD_PRIVATE_KEY      the private key matching your DISCORD_PUBLIC_KEY, when you set one
                           (PKCS#8 PEM, or the 32-byte Ed25519 seed as 64 hex characters)

options
  --as maintainer|member   who clicks (maintainers may ask for fixes, split and merge; default maintainer)
  --thread                 run it inside the sandbox's existing thread
  --url URL                the local stack (default http://127.0.0.1:$PORT or :3000)
  --wait SECONDS           how long to wait for bugbot's answer (default 20; 0 = don't wait)`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      issue: { type: 'string' },
      repo: { type: 'string' },
      instructions: { type: 'string' },
      author: { type: 'string', default: 'devon' },
      reason: { type: 'string' },
      as: { type: 'string', default: 'maintainer' },
      thread: { type: 'boolean', default: false },
      url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? '3000'}` },
      wait: { type: 'string', default: '20' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  // The same configuration as `npm start`: the environment, then `.env`.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const keysPath = join(process.cwd(), '.local', 'keys.json');
  if (!existsSync(keysPath)) {
    console.error('No local keys yet: start the local stack first with `npm start`.');
    return 2;
  }
  const keys = JSON.parse(readFileSync(keysPath, 'utf8')) as LocalKeys;
  const { sandbox, config } = await readSandbox(values.url, values.thread);
  // Sign with the key the stack verifies with: its own, or the team's (DISCORD_PRIVATE_KEY).
  const signing = resolveSigningKey({
    privateKey: process.env.DISCORD_PRIVATE_KEY,
    keys,
    stackPublicKey: config?.discord.publicKey,
  });
  if (!signing.ok) {
    console.error(`cannot sign interactions: ${signing.message}`);
    return 2;
  }
  const signer = {
    discordPrivateKeyPem: signing.privateKeyPem,
    discordApplicationId: config?.discord.applicationId ?? keys.discordApplicationId,
  };
  // The same people as the integration tests: maintainers hold a role allowed to ask for fixes.
  const maintainerRole = config?.fixAllowedRoleIds[0] ?? SANDBOX_MAINTAINER_ROLE_ID;
  const member =
    values.as === 'member'
      ? buildMember('1300000000000000043', 'sam', [])
      : buildMember('1300000000000000042', 'maya', [maintainerRole]);
  const interaction = buildInteraction(command, rest, values, { keys: signer, sandbox, member });
  if (!interaction) {
    console.error(`unknown or incomplete command: ${[command, ...rest].join(' ')}\n\n${usage}`);
    return 2;
  }

  const body = JSON.stringify(interaction);
  const response = await fetch(`${values.url}/discord/interactions`, {
    method: 'POST',
    headers: signInteraction(signer, body),
    body,
  });
  const answer = await response.text();
  console.log(`→ ${response.status} ${answer}`);
  const type = (JSON.parse(answer || '{}') as { type?: number }).type;
  if (response.status !== 200 || type !== 5 || Number(values.wait) <= 0)
    return response.status === 200 ? 0 : 1;

  const reply = await waitForReply(values.url, interaction.token, Number(values.wait) * 1000);
  if (!reply) {
    console.log(
      `… no answer from bugbot within ${values.wait}s (see the local stack's logs and ${values.url}/_local/state)`,
    );
    return 1;
  }
  console.log(`bugbot: ${reply}`);
  return 0;
}

async function readSandbox(
  url: string,
  inThread: boolean,
): Promise<{ sandbox: Sandbox; config: LocalPublicConfig | undefined }> {
  const response = await fetch(`${url}/_local/state`).catch(() => null);
  if (!response?.ok)
    throw new Error(`the local stack is not answering at ${url}: start it with \`npm start\``);
  const state = (await response.json()) as {
    config?: LocalPublicConfig;
    sandbox: {
      discord?: {
        channels: { id: string; guildId: string; name: string }[];
        threads: { id: string; parentId: string }[];
      };
    };
  };
  const discord = state.sandbox.discord;
  const channel =
    discord?.channels.find((candidate) => candidate.name === 'bug-reports') ?? discord?.channels[0];
  if (!channel) throw new Error('the sandbox Discord has no channels (is Discord real in this stack?)');
  const thread = discord?.threads.find((candidate) => candidate.parentId === channel.id);
  return {
    sandbox: { guildId: channel.guildId, channelId: channel.id, threadId: inThread ? thread?.id : undefined },
    config: state.config,
  };
}

async function waitForReply(url: string, token: string, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = (await (await fetch(`${url}/_local/state`)).json()) as {
      sandbox: {
        discord?: {
          messages: {
            interactionToken?: string;
            content: string;
            embeds: { title?: string; description?: string }[];
          }[];
        };
      };
    };
    const replies =
      state.sandbox.discord?.messages.filter((message) => message.interactionToken === token) ?? [];
    const last = replies.at(-1);
    if (last) {
      const embeds = last.embeds
        .map((embed) => [embed.title, embed.description].filter(Boolean).join('\n'))
        .join('\n');
      return [last.content, embeds].filter(Boolean).join('\n');
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
