import { InvalidInputLinearError, LinearClient, RatelimitedLinearError } from '@linear/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createLinearStandIn,
  LINEAR_SANDBOX,
  type LinearStandIn,
} from '../../local/stand-ins/linear-stand-in.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/**
 * The stand-in answers the documents `@linear/sdk`'s typed methods send (large fragments, lazy
 * relations), not only the adapter's own: the local stack may grow other Linear calls.
 */

let standIn: LinearStandIn;
let served: ServedStandIn;
let client: LinearClient;

beforeEach(async () => {
  standIn = createLinearStandIn({ now: () => new Date('2025-03-01T12:00:00.000Z') });
  served = await serveStandIn(standIn);
  client = new LinearClient({ apiKey: 'lin_api_sandbox', apiUrl: `${served.baseUrl}/graphql` });
});

afterEach(async () => {
  await served.close();
});

async function postGraphQL(
  body: unknown,
  headers: Record<string, string> = { authorization: 'lin_api_sandbox' },
) {
  const response = await fetch(`${served.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('Linear stand-in, driven by the SDK', () => {
  it('serves seeded issues with their relations through the SDK models', async () => {
    const issue = await client.issue('ENG-4');
    const [state, team, creator] = await Promise.all([issue.state, issue.team, issue.creator]);

    expect(issue.title).toBe('Push notifications arrive twice on Android');
    expect(issue.createdAt.toISOString()).toBe('2025-02-11T19:27:00.000Z');
    expect(state?.name).toBe('Backlog');
    expect(team).toMatchObject({ id: LINEAR_SANDBOX.teamId, key: 'ENG', name: 'Engineering' });
    expect(creator?.name).toBe('Dana Whitfield');
    const states = await team!.states();
    expect(states.nodes.map((s) => s.name)).toEqual([
      'Triage',
      'Backlog',
      'Todo',
      'In Progress',
      'In Review',
      'Done',
      'Canceled',
    ]);
  });

  it('answers viewer, teams, filters and search', async () => {
    const [viewer, teams, byNumber, search] = await Promise.all([
      client.viewer,
      client.teams(),
      client.issues({ filter: { team: { key: { eq: 'ENG' } }, number: { in: [1, 5] } } }),
      client.searchIssues('discount'),
    ]);

    expect(viewer).toMatchObject({ id: LINEAR_SANDBOX.viewerId, name: 'bugbot', isMe: true });
    expect(teams.nodes.map((team) => team.key)).toEqual(['ENG']);
    expect(byNumber.nodes.map((issue) => issue.identifier).sort()).toEqual(['ENG-1', 'ENG-5']);
    expect(search.nodes.map((issue) => issue.identifier)).toEqual(['ENG-5']);
  });

  it('numbers new issues per team and links comments and attachments to them', async () => {
    const payload = await client.createIssue({
      teamId: LINEAR_SANDBOX.teamId,
      title: 'Typing lag in the editor',
    });
    const second = await client.createIssue({ teamId: LINEAR_SANDBOX.teamId, title: 'Second' });
    const issue = await payload.issue;
    await client.createComment({ issueId: issue!.id, body: 'First comment' });
    const viaUrl = await client.attachmentLinkURL(issue!.id, 'https://discord.com/channels/1/2/3', {
      title: 'Thread',
    });
    const viaCreate = await client.createAttachment({
      issueId: issue!.id,
      url: 'https://discord.com/channels/1/2/3',
      title: 'Discord thread',
    });

    expect(payload.success).toBe(true);
    expect(issue).toMatchObject({
      identifier: 'ENG-6',
      url: 'https://linear.app/acme/issue/ENG-6/typing-lag-in-the-editor',
    });
    expect((await second.issue)?.identifier).toBe('ENG-7');
    expect((await issue!.comments()).nodes.map((comment) => comment.body)).toEqual(['First comment']);
    expect(viaCreate.attachmentId).toBe(viaUrl.attachmentId);
    expect(standIn.snapshot().attachments).toEqual([
      expect.objectContaining({
        issueId: issue!.id,
        title: 'Discord thread',
        createdAt: '2025-03-01T12:00:00.000Z',
      }),
    ]);
  });

  it('refuses a second create with the same id, and ids that are not UUID v4', async () => {
    const id = '6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b';
    await client.createIssue({ id, teamId: LINEAR_SANDBOX.teamId, title: 'Once' });

    const duplicate = await client
      .createIssue({ id, teamId: LINEAR_SANDBOX.teamId, title: 'Twice' })
      .catch((e) => e);
    const notV4 = await client
      .createIssue({ id: '6f1c2b3a-4d5e-5f60-8a7b-9c0d1e2f3a4b', teamId: LINEAR_SANDBOX.teamId, title: 'v5' })
      .catch((e) => e);

    expect(duplicate).toBeInstanceOf(InvalidInputLinearError);
    expect(notV4).toBeInstanceOf(InvalidInputLinearError);
    expect((standIn.snapshot().issues as unknown[]).length).toBe(6);
  });

  it('answers a missing issue with Linear\'s "Entity not found" error', async () => {
    const response = await postGraphQL({
      query: 'query($id: String!) { issue(id: $id) { id } }',
      variables: { id: 'ENG-404' },
    });

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      data: null,
      errors: [
        {
          message: 'Entity not found: Issue',
          path: ['issue'],
          extensions: expect.objectContaining({
            type: 'invalid input',
            code: 'INPUT_ERROR',
            userError: true,
          }),
        },
      ],
    });
  });

  it('resolves aliases and returns null for fields it does not model', async () => {
    const response = await postGraphQL({
      query: '{ a: issue(id: "ENG-1") { identifier snoozedUntilAt } b: issue(id: "ENG-2") { identifier } }',
    });

    expect(response.body).toEqual({
      data: { a: { identifier: 'ENG-1', snoozedUntilAt: null }, b: { identifier: 'ENG-2' } },
    });
  });

  it('rejects unparseable documents and unknown root fields with HTTP 400', async () => {
    const syntax = await postGraphQL({ query: '{ issue(id: "ENG-1") { id ' });
    const unknown = await postGraphQL({ query: '{ cycles { nodes { id } } }' });

    expect(syntax.status).toBe(400);
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([
      expect.objectContaining({ message: 'Cannot query field "cycles" on type "Query".' }),
    ]);
  });

  it('requires an API key', async () => {
    const response = await postGraphQL({ query: '{ viewer { id } }' }, {});

    expect(response.status).toBe(401);
    expect(response.body.errors).toEqual([
      expect.objectContaining({ message: 'Authentication required, not authenticated' }),
    ]);
    expect(standIn.calls.at(-1)).toMatchObject({ method: 'POST', path: '/graphql', status: 401 });
  });

  it('rate limits the way Linear does, and the SDK recognises it', async () => {
    standIn.rateLimitNext(1, { resetInMs: 60_000 });

    const error = await client.viewer.catch((e) => e);

    expect(error).toBeInstanceOf(RatelimitedLinearError);
    expect(error.status).toBe(400);
    expect(error.requestsRemaining).toBe(0);
    expect(error.requestsResetAt).toBe(Date.parse('2025-03-01T12:01:00.000Z'));
    expect((await client.viewer).name).toBe('bugbot');
  });

  it('records every call with its body and status, and honours faults', async () => {
    standIn.setFault({ failRate: 0, status: 502, latencyMs: 0, failNext: 1 });

    const failed = await fetch(`${served.baseUrl}/graphql?trace=1`, {
      method: 'POST',
      headers: { authorization: 'k', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    const recovered = await postGraphQL({ query: '{ viewer { id } }' });

    expect(failed.status).toBe(502);
    expect(failed.headers.get('content-type')).toContain('text/html');
    expect(recovered.status).toBe(200);
    expect(standIn.calls).toEqual([
      {
        at: '2025-03-01T12:00:00.000Z',
        method: 'POST',
        path: '/graphql?trace=1',
        body: { query: '{ viewer { id } }' },
        status: 502,
      },
      {
        at: '2025-03-01T12:00:00.000Z',
        method: 'POST',
        path: '/graphql',
        body: { query: '{ viewer { id } }' },
        status: 200,
      },
    ]);
  });
});
