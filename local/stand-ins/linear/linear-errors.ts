import { FieldError } from './graphql-executor.js';

/**
 * Error bodies shaped like Linear's: `extensions.type` is what `@linear/sdk` reads to pick its
 * error class (`invalid input` → InvalidInputLinearError, `ratelimited` → RatelimitedLinearError…),
 * `extensions.code` is what raw GraphQL clients switch on.
 */

export interface LinearErrorBody {
  readonly errors: readonly {
    readonly message: string;
    readonly path?: readonly string[];
    readonly extensions: Record<string, unknown>;
  }[];
  readonly data?: null;
}

export function entityNotFound(entity: string): FieldError {
  return new FieldError(`Entity not found: ${entity}`, {
    type: 'invalid input',
    code: 'INPUT_ERROR',
    statusCode: 400,
    userError: true,
    userPresentableMessage: `Could not find referenced ${entity}.`,
  });
}

export function argumentValidationError(userPresentableMessage: string): FieldError {
  return new FieldError('Argument Validation Error', {
    type: 'invalid input',
    code: 'INPUT_ERROR',
    statusCode: 400,
    userError: true,
    userPresentableMessage,
  });
}

/**
 * Linear does not document the answer to a create whose client-chosen `id` is taken; this models
 * it as an input error, which is how the SDK would classify any unique-constraint refusal.
 */
export function entityAlreadyExists(entity: string): FieldError {
  return new FieldError(`${entity} already exists`, {
    type: 'invalid input',
    code: 'INPUT_ERROR',
    statusCode: 400,
    userError: true,
    userPresentableMessage: `${entity} with this id already exists.`,
  });
}

export const authenticationRequired: LinearErrorBody = {
  errors: [
    {
      message: 'Authentication required, not authenticated',
      extensions: {
        type: 'authentication error',
        code: 'AUTHENTICATION_ERROR',
        statusCode: 401,
        userError: true,
        userPresentableMessage: 'You need to authenticate to access this operation.',
      },
    },
  ],
};

export function rateLimited(limit: number): LinearErrorBody {
  return {
    errors: [
      {
        message: `Rate limit exceeded. Only ${limit} requests are allowed per 1 hour.`,
        extensions: {
          type: 'ratelimited',
          code: 'RATELIMITED',
          statusCode: 429,
          userError: true,
          userPresentableMessage: 'You have exceeded the API rate limit. Please wait before retrying.',
        },
      },
    ],
  };
}

/** What a fault answers with: the body Linear (or the CDN in front of it) sends for that status. */
export function faultBody(status: number): { contentType: string; body: string } {
  const json = (payload: unknown) => ({ contentType: 'application/json', body: JSON.stringify(payload) });
  switch (status) {
    case 400:
      return json({
        errors: [
          {
            message: 'Argument Validation Error',
            extensions: {
              type: 'invalid input',
              code: 'INPUT_ERROR',
              statusCode: 400,
              userError: true,
              userPresentableMessage: 'The request contained invalid input.',
            },
          },
        ],
      });
    case 401:
      return json(authenticationRequired);
    case 403:
      return json({
        errors: [
          {
            message: 'Forbidden',
            extensions: {
              type: 'forbidden',
              code: 'FORBIDDEN',
              statusCode: 403,
              userError: true,
              userPresentableMessage: 'You do not have permission to perform this action.',
            },
          },
        ],
      });
    case 429:
      return json(rateLimited(5000));
    case 500:
      return json({
        errors: [
          {
            message: 'Internal server error',
            extensions: {
              type: 'internal error',
              code: 'INTERNAL_SERVER_ERROR',
              statusCode: 500,
              userError: false,
            },
          },
        ],
      });
    case 502:
    case 503:
    case 504:
      return {
        contentType: 'text/html; charset=UTF-8',
        body: `<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center><hr><center>cloudflare</center></body></html>`,
      };
    default:
      return json({ errors: [{ message: `HTTP ${status}`, extensions: { statusCode: status } }] });
  }
}
