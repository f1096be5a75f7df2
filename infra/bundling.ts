/**
 * How Lambda code is bundled, in one place: the CDK `NodejsFunction`s use it, and `npm run bench`
 * bundles the handlers with the same options so the sizes and cold starts it prints are the
 * deployed ones.
 *
 * Everything is bundled (the AWS SDK included) and minified as ESM: a pinned SDK, no runtime
 * module resolution, and the smallest cold start for the ingress Lambdas.
 */
export const LAMBDA_NODE_TARGET = 'node22';

export const lambdaEsbuildOptions = {
  bundle: true,
  platform: 'node' as const,
  target: LAMBDA_NODE_TARGET,
  format: 'esm' as const,
  minify: true,
  sourcemap: false,
  // Some dependencies still call require(); give ESM bundles a require that works.
  banner:
    "import { createRequire as __bugbotCreateRequire } from 'node:module'; const require = __bugbotCreateRequire(import.meta.url);",
  mainFields: ['module', 'main'],
  external: [] as string[],
};
