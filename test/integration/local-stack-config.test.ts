import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInteraction } from '../../local/discord-interaction-builder.js';
import { signReport } from '../../local/report-sender.js';
import { replyTo, type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

/**
 * DESIGN "Local stack": the environment's keys and ids win over the sandbox's, so a team's
 * end-to-end tests sign with their own keys and post from their own guild and channels; the
 * Discord sandbox takes an interaction's guild and channel as existing; `/_local/state` answers
 * only once the routes do. And the local queues are sized as the deployed ones, so a report the
 * deployed stack takes is taken here too.
 */

const TEAM = {
  applicationId: '1111111111111111111',
  guildId: '2222222222222222222',
  maintainerRoleId: '3333333333333333333',
  bugChannelId: '4444444444444444444',
  webhookSecret: `whsec_${randomBytes(32).toString('base64')}`,
};
const team = generateKeyPairSync('ed25519');
const teamPublicKeyHex = (() => {
  const spki = team.publicKey.export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('hex');
})();
const teamPrivateKeyPem = team.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

let driver: StackDriver;
/** What came back from requests made while the stack was still starting. */
const duringStart: Promise<{ path: string; status: number }>[] = [];

beforeAll(async () => {
  driver = await startStackDriver(
    {},
    {
      env: {
        DISCORD_PUBLIC_KEY: teamPublicKeyHex,
        DISCORD_APPLICATION_ID: TEAM.applicationId,
        DISCORD_GUILD_ID: TEAM.guildId,
        FIX_ALLOWED_ROLE_IDS: TEAM.maintainerRoleId,
        BUG_CHANNEL_ID: TEAM.bugChannelId,
        BUG_REPORT_WEBHOOK_SECRET: TEAM.webhookSecret,
      },
      discordPrivateKeyPem: teamPrivateKeyPem,
      // As soon as the server listens, before its handlers are loaded, ask it as a harness would.
      onListening: (url) => {
        const ping = JSON.stringify({
          type: 1,
          id: '1500000000000000001',
          application_id: TEAM.applicationId,
          token: 't',
          version: 1,
        });
        const record = (path: string, response: Promise<Response>) =>
          duringStart.push(response.then((answer) => ({ path, status: answer.status })));
        record('/_local/state', fetch(`${url}/_local/state`));
        record(
          '/discord/interactions',
          fetch(`${url}/discord/interactions`, {
            method: 'POST',
            headers: signInteraction({ discordPrivateKeyPem: teamPrivateKeyPem }, ping),
            body: ping,
          }),
        );
      },
    },
  );
}, 60_000);
afterAll(async () => driver?.close());

describe('the local stack while it starts', () => {
  it('answers /_local/state and interactions only once the routes work (never 503 "starting")', async () => {
    const answers = await Promise.all(duringStart);
    expect(answers.map((answer) => [answer.path, answer.status])).toEqual([
      ['/_local/state', 200],
      ['/discord/interactions', 200],
    ]);
  });
});

describe('configuration from the environment wins over the sandbox’s', () => {
  it('says which settings came from the environment, and no secret', async () => {
    const state = (await driver.state()) as unknown as { config: Record<string, unknown> };
    expect(state.config).toEqual({
      discord: { publicKey: teamPublicKeyHex, applicationId: TEAM.applicationId, guildId: TEAM.guildId },
      fixAllowedRoleIds: [TEAM.maintainerRoleId],
      fromEnvironment: [
        'DISCORD_PUBLIC_KEY',
        'DISCORD_APPLICATION_ID',
        'DISCORD_GUILD_ID',
        'FIX_ALLOWED_ROLE_IDS',
        'BUG_REPORT_WEBHOOK_SECRET',
        'BUG_CHANNEL_ID',
      ],
    });
    expect(JSON.stringify(state)).not.toContain(TEAM.webhookSecret);
  });

  it('verifies interactions with the team’s public key: the sandbox key pair is refused', async () => {
    const body = JSON.stringify({
      type: 1,
      id: '1500000000000000002',
      application_id: TEAM.applicationId,
      token: 't',
      version: 1,
    });
    const sandboxSigned = await fetch(`${driver.stack.url}/discord/interactions`, {
      method: 'POST',
      headers: signInteraction(driver.stack.keys, body),
      body,
    });
    const teamSigned = await fetch(`${driver.stack.url}/discord/interactions`, {
      method: 'POST',
      headers: signInteraction({ discordPrivateKeyPem: teamPrivateKeyPem }, body),
      body,
    });
    expect(sandboxSigned.status).toBe(401);
    expect(teamSigned.status).toBe(200);
    expect(await teamSigned.json()).toEqual({ type: 1 });
  });

  it('answers a command from a channel of the team’s guild the sandbox has never seen', async () => {
    const place = { guildId: TEAM.guildId, channelId: '5555555555555555555' };
    const sent = await driver.sendCommand('dashboard', [], { place, roles: [] });
    expect(sent.status).toBe(200);
    const reply = await driver.waitFor('the dashboard reply', (state) => replyTo(state, sent.interaction));
    expect(reply.embeds.length).toBeGreaterThan(0);
  });

  it('posts in a thread of a channel it has never seen, from inside that thread', async () => {
    const place = {
      guildId: TEAM.guildId,
      channelId: '6666666666666666666',
      threadId: '7777777777777777777',
    };
    const sent = await driver.sendCommand('contextualize', [], { place, roles: [] });
    expect(sent.status).toBe(200);
    const reply = await driver.waitFor(
      'the contextualize reply',
      (state) => replyTo(state, sent.interaction),
      30_000,
    );
    expect(reply.content.length + reply.embeds.length).toBeGreaterThan(0);
    const state = await driver.state();
    expect(state.sandbox.discord.threads).toContainEqual(
      expect.objectContaining({ id: '7777777777777777777', parentId: '6666666666666666666' }),
    );
  });

  it('lets the team’s maintainer role ask for fixes, and no longer the sandbox’s', async () => {
    const asSandboxMaintainer = await driver.sendCommand('button', ['draft_fix', 'bug_nosuchbug'], {
      as: 'maintainer',
    });
    const asTeamMaintainer = await driver.sendCommand('button', ['draft_fix', 'bug_nosuchbug'], {
      roles: [TEAM.maintainerRoleId],
    });
    expect(JSON.parse(asSandboxMaintainer.body)).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.parse(asTeamMaintainer.body).type).toBe(5);
    await driver.waitFor('the answer to the team maintainer', (state) =>
      replyTo(state, asTeamMaintainer.interaction),
    );
  });

  it('takes reports signed with the team’s webhook secret, posts the card to the team’s channel, and refuses the sandbox secret', async () => {
    const refused = signReport(driver.stack.keys.webhookSecret, {
      description: 'signed with the sandbox secret',
    });
    const refusedAnswer = await fetch(`${driver.stack.url}/webhooks/bug-report`, {
      method: 'POST',
      headers: refused.headers,
      body: refused.body,
    });
    expect(refusedAnswer.status).toBe(401);

    const sent = await driver.sendReport({
      description: 'The avatar upload spins forever',
      user_id: 'u_team',
    });
    expect(sent.status).toBe(202);
    const bugId = String(sent.body.bugId);
    const bug = await driver.waitFor('the card', (state) =>
      state.bugs.find((candidate) => candidate.bugId === bugId && candidate.card?.threadId),
    );
    expect(bug.card?.channelId).toBe(TEAM.bugChannelId);
  });
});

describe('npm run discord against a stack that verifies with the team’s key', () => {
  const run = promisify(execFile);
  const cli = resolve(import.meta.dirname, '../../local/discord-cli.ts');
  const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');

  /** The CLI in a directory of its own holding the stack's .local/keys.json, as after `npm start`. */
  async function discordCli(args: string[], env: Record<string, string>) {
    const cwd = mkdtempSync(join(tmpdir(), 'bugbot-cli-'));
    try {
      mkdirSync(join(cwd, '.local'));
      writeFileSync(join(cwd, '.local', 'keys.json'), JSON.stringify(driver.stack.keys));
      return await run(tsx, [cli, ...args, '--url', driver.stack.url, '--wait', '20'], {
        cwd,
        env: { PATH: process.env.PATH ?? '', ...env },
      }).then(
        (result) => ({ code: 0, ...result }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it('says it needs the private key, since the stack never has it', async () => {
    const result = await discordCli(['dashboard'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/DISCORD_PRIVATE_KEY/);
  }, 30_000);

  it('signs with DISCORD_PRIVATE_KEY and prints bugbot’s answer', async () => {
    const result = await discordCli(['dashboard'], { DISCORD_PRIVATE_KEY: teamPrivateKeyPem });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/→ 200 \{"type":5/);
    expect(result.stdout).toMatch(/bugbot: /);
  }, 30_000);
});

describe('sizes: the local queues are the deployed ones', () => {
  it('takes a 700 KB report whole through the queue, and says on the card and in Details what it kept', async () => {
    const logs = `${'GET /api/cart 200 (34 ms)\n'.repeat(28_000)}TypeError: Cannot read properties of undefined (reading 'total')`;
    expect(Buffer.byteLength(logs)).toBeGreaterThan(690 * 1024);
    const sent = await driver.sendReport({
      description: 'The cart total vanishes after a long session',
      user_id: 'u_logs',
      console_logs: logs,
    });
    expect(sent.status).toBe(202);
    const bugId = String(sent.body.bugId);
    const state = await driver.waitFor(
      'the card',
      (current) => {
        const bug = current.bugs.find((candidate) => candidate.bugId === bugId);
        const card = current.sandbox.discord.messages.find((message) => message.id === bug?.card?.messageId);
        return bug?.card?.threadId && card ? { bug, card } : undefined;
      },
      30_000,
    );
    const cut = state.card.embeds[0]?.fields?.find((field) => field.name === 'Report cut to fit');
    expect(cut?.value).toMatch(/^Console log cut to the last 16 KB of 7\d\d KB\.$/);

    const details = await driver.sendCommand('button', ['details', bugId], { roles: [] });
    const reply = await driver.waitFor('the details', (current) => replyTo(current, details.interaction));
    expect(JSON.stringify(reply.embeds)).toMatch(/Console log cut to the last 16 KB of 7\d\d KB/);
  }, 60_000);
});
