import {
  type DirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValueNode,
  valueFromASTUntyped,
} from 'graphql';

/**
 * A schema-less GraphQL executor for sandbox stand-ins. The real SDKs send whole documents with
 * fragments, aliases and variables; rather than hand-matching query strings, the stand-in parses
 * them and resolves every selection against plain objects: a property holds the value, or a
 * function of the field's arguments computes it. Fields nobody modelled answer `null`, which is
 * what a client that asked for an optional field would accept.
 *
 * Objects may carry `__typename` (used for `__typename` and for fragment type conditions) and
 * `__implements` (interfaces whose fragments also apply).
 */

export type FieldArguments = Record<string, unknown>;

/** A failure the stand-in reports the way the vendor would, in `errors[]`. */
export class FieldError extends Error {
  constructor(
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

export interface GraphQLRequestBody {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
}

export interface RootResolvers {
  readonly query: Record<string, (args: FieldArguments) => unknown>;
  readonly mutation: Record<string, (args: FieldArguments) => unknown>;
}

export interface ExecutionError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly locations?: readonly { line: number; column: number }[];
  readonly extensions?: Record<string, unknown>;
}

/** `kind: 'invalid'` is a request the server refuses before running it (HTTP 400 on Linear). */
export type ExecutionResult =
  | { readonly kind: 'invalid'; readonly errors: readonly ExecutionError[] }
  | {
      readonly kind: 'executed';
      readonly data: Record<string, unknown> | null;
      readonly errors: readonly ExecutionError[];
    };

interface Context {
  readonly variables: Record<string, unknown>;
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
}

export function executeGraphQL(body: GraphQLRequestBody, roots: RootResolvers): ExecutionResult {
  if (typeof body.query !== 'string' || body.query.trim() === '') {
    return invalid('Must provide query string.', 'BAD_USER_INPUT');
  }
  let document: DocumentNode;
  try {
    document = parse(body.query);
  } catch (error) {
    if (error instanceof GraphQLError) return invalid(error.message, 'GRAPHQL_PARSE_FAILED');
    throw error;
  }
  const operation = pickOperation(
    document,
    typeof body.operationName === 'string' ? body.operationName : null,
  );
  if (typeof operation === 'string') return invalid(operation, 'GRAPHQL_VALIDATION_FAILED');
  if (operation.operation === 'subscription') {
    return invalid('Subscriptions are not supported over HTTP.', 'GRAPHQL_VALIDATION_FAILED');
  }

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variables = coerceVariables(operation, body.variables);
  const context: Context = { variables, fragments };
  const rootType = operation.operation === 'mutation' ? 'Mutation' : 'Query';
  const resolvers = operation.operation === 'mutation' ? roots.mutation : roots.query;

  const fields = collectFields(operation.selectionSet, { __typename: rootType }, context);
  const unknown = [...fields.values()]
    .map((nodes) => nodes[0]!)
    .filter((node) => node.name.value !== '__typename' && !Object.hasOwn(resolvers, node.name.value));
  if (unknown.length > 0) {
    return {
      kind: 'invalid',
      errors: unknown.map((node) => ({
        message: `Cannot query field "${node.name.value}" on type "${rootType}".`,
        locations: node.loc ? [locationOf(node, body.query as string)] : undefined,
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', type: 'graphql error', userError: true },
      })),
    };
  }

  const data: Record<string, unknown> = {};
  const errors: ExecutionError[] = [];
  // Mutations run one root field after another, as the spec requires; so do queries, here.
  for (const [key, nodes] of fields) {
    const node = nodes[0]!;
    if (node.name.value === '__typename') {
      data[key] = rootType;
      continue;
    }
    try {
      const value = resolvers[node.name.value]!(argumentsOf(node, context));
      data[key] = complete(value, mergeSelections(nodes), context);
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      errors.push({ message: error.message, path: [key], extensions: error.extensions });
      data[key] = null;
    }
  }
  // Linear's root fields are non-null: one failing root field nulls the whole `data`.
  return { kind: 'executed', data: errors.length > 0 ? null : data, errors };
}

function invalid(message: string, code: string): ExecutionResult {
  return {
    kind: 'invalid',
    errors: [{ message, extensions: { code, type: 'graphql error', userError: true } }],
  };
}

function pickOperation(document: DocumentNode, name: string | null): OperationDefinitionNode | string {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (name !== null) {
    return (
      operations.find((operation) => operation.name?.value === name) ?? `Unknown operation named "${name}".`
    );
  }
  if (operations.length === 1) return operations[0]!;
  return operations.length === 0
    ? 'Must provide an operation.'
    : 'Must provide operation name if query contains multiple operations.';
}

function coerceVariables(operation: OperationDefinitionNode, supplied: unknown): Record<string, unknown> {
  const given =
    supplied !== null && typeof supplied === 'object' ? (supplied as Record<string, unknown>) : {};
  const variables: Record<string, unknown> = { ...given };
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (variables[name] === undefined && definition.defaultValue) {
      variables[name] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return variables;
}

function argumentsOf(node: FieldNode, context: Context): FieldArguments {
  const args: FieldArguments = {};
  for (const argument of node.arguments ?? []) {
    const value = evaluate(argument.value, context);
    if (value !== undefined) args[argument.name.value] = value;
  }
  return args;
}

function evaluate(node: ValueNode, context: Context): unknown {
  // valueFromASTUntyped leaves absent variables undefined, which drops the argument: as GraphQL does.
  return valueFromASTUntyped(node, context.variables);
}

function isIncluded(directives: readonly DirectiveNode[] | undefined, context: Context): boolean {
  for (const directive of directives ?? []) {
    const condition = directive.arguments?.find((argument) => argument.name.value === 'if');
    const value = condition ? evaluate(condition.value, context) === true : false;
    if (directive.name.value === 'skip' && value) return false;
    if (directive.name.value === 'include' && !value) return false;
  }
  return true;
}

function appliesTo(typeCondition: string | undefined, value: Record<string, unknown>): boolean {
  if (typeCondition === undefined) return true;
  const typename = value.__typename;
  if (typeof typename !== 'string') return true;
  if (typename === typeCondition) return true;
  const interfaces = value.__implements;
  return Array.isArray(interfaces) && interfaces.includes(typeCondition);
}

/** Response key → the field nodes asking for it (several when fragments overlap). */
function collectFields(
  selectionSet: SelectionSetNode,
  value: Record<string, unknown>,
  context: Context,
  into: Map<string, FieldNode[]> = new Map(),
  visited: Set<string> = new Set(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    if (!isIncluded(selection.directives, context)) continue;
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const existing = into.get(key);
      if (existing) existing.push(selection);
      else into.set(key, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (appliesTo(selection.typeCondition?.name.value, value)) {
        collectFields(selection.selectionSet, value, context, into, visited);
      }
    } else {
      const name = selection.name.value;
      if (visited.has(name)) continue;
      const fragment = context.fragments.get(name);
      if (!fragment)
        throw new FieldError(`Unknown fragment "${name}".`, { code: 'GRAPHQL_VALIDATION_FAILED' });
      visited.add(name);
      if (appliesTo(fragment.typeCondition.name.value, value)) {
        collectFields(fragment.selectionSet, value, context, into, visited);
      }
    }
  }
  return into;
}

function mergeSelections(nodes: readonly FieldNode[]): SelectionSetNode | undefined {
  const sets = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
  if (sets.length === 0) return undefined;
  if (sets.length === 1) return sets[0];
  return { kind: Kind.SELECTION_SET, selections: sets.flatMap((set) => set.selections) };
}

function complete(value: unknown, selectionSet: SelectionSetNode | undefined, context: Context): unknown {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map((item) => complete(item, selectionSet, context));
  if (value instanceof Date) return value.toISOString();
  if (selectionSet === undefined) return value; // scalars, and JSON scalars such as `metadata`
  if (typeof value !== 'object') return null;
  return resolveObject(value as Record<string, unknown>, selectionSet, context);
}

function resolveObject(
  value: Record<string, unknown>,
  selectionSet: SelectionSetNode,
  context: Context,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, nodes] of collectFields(selectionSet, value, context)) {
    const node = nodes[0]!;
    const name = node.name.value;
    if (name === '__typename') {
      result[key] = value.__typename ?? null;
      continue;
    }
    const raw = Object.hasOwn(value, name) ? value[name] : undefined;
    const resolved = typeof raw === 'function' ? raw(argumentsOf(node, context)) : raw;
    result[key] = complete(resolved, mergeSelections(nodes), context);
  }
  return result;
}

function locationOf(node: FieldNode, source: string): { line: number; column: number } {
  const start = node.loc?.start ?? 0;
  const before = source.slice(0, start).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
