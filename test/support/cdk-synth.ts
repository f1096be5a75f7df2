/**
 * Deadline for a hook or test that synthesizes (or validates) the whole bugbot stack.
 *
 * Synth is CPU-bound: constructing ~200 resources, running the cdk-nag packs, hashing the
 * fargate-runner image context and, where bundling is on, esbuild for every Lambda. It takes
 * 10–20 s on an idle machine and several times that on a busy two-core CI runner where another
 * worker synthesizes too. Nothing is timed here: the deadline only stops a hang. Each infra test
 * file synthesizes a configuration once (in `beforeAll`) and shares it between its tests.
 */
export const SYNTH_TIMEOUT_MS = 300_000;
