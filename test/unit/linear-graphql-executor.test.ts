import { describe, expect, it } from 'vitest';
import {
  type ExecutionResult,
  executeGraphQL,
  FieldError,
  type RootResolvers,
} from '../../local/stand-ins/linear/graphql-executor.js';

const github = { __typename: 'GithubMeta', repo: 'acme/app', number: 7 };
const slack = { __typename: 'SlackMeta', channelName: '#bugs' };

const roots: RootResolvers = {
  query: {
    thing: (args) => ({
      __typename: 'Thing',
      __implements: ['Node'],
      id: `thing-${String(args.id)}`,
      name: 'Widget',
      created: new Date('2025-01-02T03:04:05.000Z'),
      metadata: { free: ['form', 1] },
      sources: [github, slack],
      echo: (fieldArgs: Record<string, unknown>) => fieldArgs,
      parent: () => ({ __typename: 'Thing', id: 'thing-parent', name: 'Parent' }),
    }),
    broken: () => {
      throw new FieldError('Entity not found: Thing', { code: 'INPUT_ERROR' });
    },
  },
  mutation: {
    make: (args) => ({ __typename: 'Payload', success: true, input: args.input }),
  },
};

function run(query: string, variables?: Record<string, unknown>, operationName?: string): ExecutionResult {
  return executeGraphQL({ query, variables, operationName }, roots);
}

function thingOf(result: ExecutionResult): Record<string, unknown> {
  if (result.kind !== 'executed' || result.data === null) throw new Error('expected data');
  return result.data.thing as Record<string, unknown>;
}

describe('executeGraphQL', () => {
  it('resolves fields, aliases, __typename, dates, JSON scalars and unknown fields', () => {
    const result = run(
      '{ __typename t: thing(id: 1) { __typename id label: name created metadata missing } }',
    );

    expect(result).toEqual({
      kind: 'executed',
      errors: [],
      data: {
        __typename: 'Query',
        t: {
          __typename: 'Thing',
          id: 'thing-1',
          label: 'Widget',
          created: '2025-01-02T03:04:05.000Z',
          metadata: { free: ['form', 1] },
          missing: null,
        },
      },
    });
  });

  it('applies named and inline fragments by type condition, including interfaces', () => {
    const result = run(`
      query Q { thing(id: 2) { ...OnNode ...OnOther sources { ... on GithubMeta { repo } ... on SlackMeta { channelName } } } }
      fragment OnNode on Node { id }
      fragment OnOther on Other { name }
    `);

    expect(result).toMatchObject({
      data: { thing: { id: 'thing-2', sources: [{ repo: 'acme/app' }, { channelName: '#bugs' }] } },
    });
    expect(thingOf(result)).not.toHaveProperty('name');
  });

  it('merges overlapping selections of the same field', () => {
    const result = run('{ thing(id: 3) { parent { id } ... on Thing { parent { name } } } }');
    expect(result).toMatchObject({ data: { thing: { parent: { id: 'thing-parent', name: 'Parent' } } } });
  });

  it('passes arguments from variables, defaults and literals, and honours @skip/@include', () => {
    const result = run(
      `query Q($id: Int = 9, $n: Int, $hide: Boolean!) {
        thing(id: $id) { echo(first: $n, filter: { key: { eq: "ENG" } }, absent: $nothing) name @skip(if: $hide) id @include(if: $hide) }
      }`,
      { n: 5, hide: true },
    );

    expect(result).toMatchObject({
      data: { thing: { echo: { first: 5, filter: { key: { eq: 'ENG' } } }, id: 'thing-9' } },
    });
    expect(thingOf(result)).not.toHaveProperty('name');
  });

  it('runs the named operation of several, and mutations from the mutation root', () => {
    const result = run(
      'query A { thing(id: 1) { id } } mutation B($input: MakeInput!) { make(input: $input) { success input } }',
      { input: { title: 'x' } },
      'B',
    );
    expect(result).toEqual({
      kind: 'executed',
      errors: [],
      data: { make: { success: true, input: { title: 'x' } } },
    });
  });

  it("reports a resolver's FieldError with its path and nulls the data, as Linear does", () => {
    const result = run('{ ok: thing(id: 1) { id } gone: broken { id } }');
    expect(result).toEqual({
      kind: 'executed',
      data: null,
      errors: [{ message: 'Entity not found: Thing', path: ['gone'], extensions: { code: 'INPUT_ERROR' } }],
    });
  });

  it('refuses documents it cannot run before running anything', () => {
    expect(run('{ thing(id: 1) { id ')).toMatchObject({ kind: 'invalid' });
    expect(run('{ nope { id } }')).toMatchObject({
      kind: 'invalid',
      errors: [
        { message: 'Cannot query field "nope" on type "Query".', locations: [{ line: 1, column: 3 }] },
      ],
    });
    expect(run('query A { thing { id } } query B { thing { id } }')).toMatchObject({ kind: 'invalid' });
    expect(executeGraphQL({}, roots)).toMatchObject({ kind: 'invalid' });
  });
});
