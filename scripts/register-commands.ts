import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RESTPutAPIApplicationCommandsResult, Routes } from 'discord-api-types/v10';
import { createDiscordRest, DiscordApiError } from '../shared/adapters/discord/discord-rest.js';
import { applicationCommands } from '../shared/discord/command-definitions.js';
import {
  type CliIo,
  defineCli,
  type Env,
  localStackUrl,
  parseCli,
  runWhenMain,
  UsageError,
} from './cli-support.js';

const USAGE = `Usage: npm run register-commands -- (--guild <id> | --global) [--local]

Bulk-overwrites bugbot's Discord application commands (/bugbot and the message commands
"Contextualize bug" and "Draft fix") with the definitions the ingress parser uses
(shared/discord/command-definitions.ts). Commands Discord has that are not defined are deleted.

  --guild <id>   register in one server (immediate; default: DISCORD_GUILD_ID)
  --global       register for every server the app is installed in
  --local        the local stack's Discord sandbox (LOCAL_STACK_URL, default http://127.0.0.1:3000):
                 application id from .local/keys.json, the sandbox's server unless --guild

Environment (read from .env too): DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID,
optional DISCORD_API_URL (e.g. a Discord stand-in: http://127.0.0.1:3000/_sandbox/discord/api).`;

const SNOWFLAKE = /^\d{17,20}$/;

interface Target {
  readonly botToken: string;
  readonly applicationId: string;
  readonly api?: string;
  /** Undefined: global commands. */
  readonly guildId?: string;
}

export const main = defineCli(USAGE, async (argv, env, io) => {
  const { values, positionals } = parseCli(argv, {
    guild: { type: 'string' },
    global: { type: 'boolean', default: false },
    local: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  if (values.global && values.guild) throw new UsageError('choose --guild <id> or --global, not both');

  const target = values.local
    ? await resolveLocalTarget(env, values.guild, values.global)
    : resolveTarget(env, values.guild, values.global);
  return registerCommands(target, io);
});

function resolveTarget(env: Env, guild: string | undefined, global: boolean): Target {
  const problems: string[] = [];
  const botToken = env.DISCORD_BOT_TOKEN ?? '';
  const applicationId = env.DISCORD_APPLICATION_ID ?? '';
  if (!botToken) problems.push('DISCORD_BOT_TOKEN is not set');
  if (!SNOWFLAKE.test(applicationId))
    problems.push('DISCORD_APPLICATION_ID must be the application id (17-20 digits)');
  const guildId = global ? undefined : (guild ?? env.DISCORD_GUILD_ID);
  if (!global && !guildId) problems.push('say --guild <id> (or set DISCORD_GUILD_ID), or --global');
  if (guildId !== undefined && !SNOWFLAKE.test(guildId)) problems.push('the guild id must be 17-20 digits');
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  return { botToken, applicationId, api: env.DISCORD_API_URL || undefined, guildId };
}

/** The local stack's sandbox accepts any bot token; its application id and server are the stack's own. */
async function resolveLocalTarget(env: Env, guild: string | undefined, global: boolean): Promise<Target> {
  const base = localStackUrl(env);
  const keysPath = join(env.LOCAL_DATA_DIR ?? '.local', 'keys.json');
  if (!existsSync(keysPath))
    throw new UsageError(`${keysPath} not found: start the local stack first (npm start)`);
  const { discordApplicationId } = JSON.parse(readFileSync(keysPath, 'utf8')) as {
    discordApplicationId: string;
  };
  let guildId = guild;
  if (!global && !guildId) {
    const response = await fetch(`${base}/_local/state`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`${base}/_local/state answered ${response.status}`);
    const state = (await response.json()) as {
      sandbox?: { discord?: { channels?: { guildId: string }[] } };
    };
    guildId = state.sandbox?.discord?.channels?.[0]?.guildId;
    if (!guildId) throw new Error('the local stack has no Discord sandbox (is Discord set to the real one?)');
  }
  return {
    botToken: 'local-operator',
    applicationId: discordApplicationId,
    api: `${base}/_sandbox/discord/api`,
    guildId: global ? undefined : guildId,
  };
}

async function registerCommands(target: Target, io: CliIo): Promise<number> {
  const rest = createDiscordRest({ botToken: target.botToken, api: target.api });
  const route = target.guildId
    ? Routes.applicationGuildCommands(target.applicationId, target.guildId)
    : Routes.applicationCommands(target.applicationId);
  const where = target.guildId ? `server ${target.guildId}` : 'every server (global)';
  let registered: RESTPutAPIApplicationCommandsResult;
  try {
    registered = (await rest.put(route, {
      body: applicationCommands,
      operation: 'register commands',
    })) as RESTPutAPIApplicationCommandsResult;
  } catch (error) {
    if (error instanceof DiscordApiError && !error.retryable) {
      io.err(`Discord refused the commands for ${where}: ${error.message}`);
      if (error.status === 401) io.err('  → check DISCORD_BOT_TOKEN (Bot token of this application)');
      if (error.status === 403)
        io.err('  → is the bot in that server, invited with the applications.commands scope?');
      return 1;
    }
    throw error;
  }
  io.out(`registered ${registered.length} command(s) for application ${target.applicationId} in ${where}:`);
  for (const command of registered) {
    const kind =
      command.type === 3 ? 'message command' : command.type === 2 ? 'user command' : 'slash command';
    const subcommands = (command.options ?? []).map((option) => option.name);
    io.out(
      `  ${command.type === 1 ? '/' : ''}${command.name}  (${kind}${subcommands.length > 0 ? `: ${subcommands.join(', ')}` : ''})  id ${command.id}`,
    );
  }
  return 0;
}

runWhenMain(import.meta.url, async (argv, _env, io) => {
  // Like `npm start`: a local .env may hold the bot token; variables already set win.
  if (existsSync('.env')) process.loadEnvFile('.env');
  return main(argv, process.env, io);
});
