import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from '../../infra/constructs/bugbot-function.js';
import { createDiscordStandIn, type DiscordStandIn } from '../../local/stand-ins/discord-stand-in.js';
import { main } from '../../scripts/register-commands.js';
import { applicationCommands } from '../../shared/discord/command-definitions.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/**
 * `npm run register-commands` against the Discord stand-in, through bugbot's Discord REST client: the
 * stand-in validates the bulk overwrite as Discord does and keeps what was registered.
 */

const BOT_TOKEN = 'operator-test-bot-token-0123456789';
const run = promisify(execFile);

let discord: DiscordStandIn;
let served: ServedStandIn;

beforeAll(async () => {
  discord = createDiscordStandIn({ botToken: BOT_TOKEN });
  served = await serveStandIn(discord);
});
afterAll(async () => served.close());

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
}

const env = (extra: Record<string, string> = {}) => ({
  DISCORD_BOT_TOKEN: BOT_TOKEN,
  DISCORD_APPLICATION_ID: discord.ids.applicationId,
  DISCORD_API_URL: `${served.baseUrl}/api`,
  ...extra,
});

/** What Discord keeps for a scope, without the fields it adds (ids, versions, defaults). */
function registered(guildId: string | undefined) {
  return discord.snapshot().commands.filter((command) => command.guild_id === guildId);
}

function expectDefinitions(commands: Record<string, unknown>[]) {
  expect(commands).toHaveLength(applicationCommands.length);
  for (const definition of applicationCommands) {
    const match = commands.find((c) => c.name === definition.name && c.type === definition.type);
    expect(match, definition.name).toMatchObject(definition as unknown as Record<string, unknown>);
  }
}

describe('npm run register-commands', () => {
  it('bulk-overwrites the guild commands with the definitions the ingress parser uses', async () => {
    const { io, out, err } = capture();
    const code = await main(['--guild', discord.ids.guildId], env(), io);
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expectDefinitions(registered(discord.ids.guildId));
    expect(registered(undefined)).toEqual([]);
    expect(out[0]).toBe(
      `registered ${applicationCommands.length} command(s) for application ${discord.ids.applicationId} in server ${discord.ids.guildId}:`,
    );
    expect(out.join('\n')).toContain(
      '/bugbot  (slash command: contextualize, fix, status, dashboard, split, merge)',
    );
    expect(out.join('\n')).toContain('Draft fix  (message command)');

    const put = discord.calls.filter((call) => call.method === 'PUT');
    expect(put.at(-1)?.path).toBe(
      `/api/v10/applications/${discord.ids.applicationId}/guilds/${discord.ids.guildId}/commands`,
    );
  });

  it('is safe to run again: the same commands, the same ids, nothing duplicated', async () => {
    const before = registered(discord.ids.guildId).map((command) => command.id);
    const { io } = capture();
    expect(await main(['--guild', discord.ids.guildId], env(), io)).toBe(0);
    const after = registered(discord.ids.guildId);
    expectDefinitions(after);
    expect(after.map((command) => command.id)).toEqual(before);
  });

  it('takes the guild from DISCORD_GUILD_ID, and registers globally with --global', async () => {
    const { io } = capture();
    expect(await main([], env({ DISCORD_GUILD_ID: discord.ids.guildId }), io)).toBe(0);
    expect(await main(['--global'], env(), io)).toBe(0);
    expectDefinitions(registered(undefined));
  });

  it('says what Discord refused, without printing the token', async () => {
    const { io, out, err } = capture();
    const code = await main(
      ['--guild', discord.ids.guildId],
      env({ DISCORD_BOT_TOKEN: 'not-the-token' }),
      io,
    );
    expect(code).toBe(1);
    expect(err.join('\n')).toMatch(/401/);
    expect(err.join('\n')).toContain('check DISCORD_BOT_TOKEN');
    expect([...out, ...err].join('\n')).not.toContain('not-the-token');
  });

  it('refuses to guess the scope or run without credentials, naming every problem (exit 2)', async () => {
    const { io, err } = capture();
    expect(await main([], {}, io)).toBe(2);
    const text = err.join('\n');
    expect(text).toContain('DISCORD_BOT_TOKEN is not set');
    expect(text).toContain('DISCORD_APPLICATION_ID must be');
    expect(text).toContain('say --guild <id>');
    expect(text).toContain('Usage: npm run register-commands');

    const both = capture();
    expect(await main(['--global', '--guild', discord.ids.guildId], env(), both.io)).toBe(2);
    expect(both.err[0]).toMatch(/^choose --guild <id> or --global, not both\n/);
  });

  it('--local registers in the local stack’s sandbox server, with its application id', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'bugbot-operator-'));
    writeFileSync(
      path.join(dataDir, 'keys.json'),
      JSON.stringify({ discordApplicationId: discord.ids.applicationId }),
    );
    const localDiscord = createDiscordStandIn({ applicationId: discord.ids.applicationId });
    // The two routes of the local stack this mode uses: /_local/state and the Discord sandbox.
    const server: Server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (url === '/_local/state') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ sandbox: { discord: localDiscord.snapshot() } }));
        return;
      }
      void localDiscord.handle(req, res, url.slice('/_sandbox/discord'.length));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { io, out } = capture();
      const localUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const code = await main(['--local'], { LOCAL_STACK_URL: localUrl, LOCAL_DATA_DIR: dataDir }, io);
      expect(code).toBe(0);
      expect(out[0]).toContain(`in server ${localDiscord.ids.guildId}`);
      expectDefinitions(
        localDiscord.snapshot().commands.filter((c) => c.guild_id === localDiscord.ids.guildId),
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('is wired as an npm script', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'register-commands', '--', '--help'], {
      cwd: REPOSITORY_ROOT,
    });
    expect(stdout).toContain('Usage: npm run register-commands -- (--guild <id> | --global) [--local]');
  });
});
