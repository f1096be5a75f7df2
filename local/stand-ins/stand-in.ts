import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A sandbox stand-in for an outside service. The local stack mounts each one under its own path
 * prefix on the one local HTTP server (e.g. `/_sandbox/linear`), points the real SDK at that
 * base URL, and reads `snapshot()` for `GET /_local/state`.
 */

export interface RecordedCall {
  readonly at: string;
  readonly method: string;
  /** Path below the stand-in's prefix, with the query string. */
  readonly path: string;
  /** Parsed JSON body when there was one (GraphQL: `{ query, variables }`). */
  readonly body?: unknown;
  readonly status: number;
}

/** `POST /_local/faults` → `{ service, failRate, status, latencyMs }`. */
export interface Fault {
  /** 0..1; the share of requests answered with `status` instead of normally. */
  readonly failRate: number;
  readonly status: number;
  /** Added before every answer, failed or not. */
  readonly latencyMs: number;
  /** Optional: fail only the next N requests (then behave), for "fails twice then recovers". */
  readonly failNext?: number;
}

export interface StandIn {
  readonly service: 'discord' | 'linear' | 'posthog' | 'anthropic' | 'github';
  /** Handles one request; `path` is below the prefix, starting with `/`, query string included. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  readonly calls: readonly RecordedCall[];
  setFault(fault: Fault | null): void;
  /** What the stand-in holds now (issues, comments, messages...), for `/_local/state`. */
  snapshot(): Record<string, unknown>;
}

/**
 * Decides, per request, whether the configured fault fires. Shared by every stand-in so that
 * `failRate`, `failNext` and `latencyMs` mean the same thing everywhere.
 */
export class FaultInjector {
  private fault: Fault | null = null;
  private remaining = 0;

  constructor(private readonly random: () => number = Math.random) {}

  set(fault: Fault | null): void {
    this.fault = fault;
    this.remaining = fault?.failNext ?? 0;
  }

  /** Waits the configured latency, then returns the status to fail with, or null to answer. */
  async apply(): Promise<number | null> {
    const fault = this.fault;
    if (!fault) return null;
    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.failNext !== undefined) {
      if (this.remaining <= 0) return null;
      this.remaining -= 1;
      return fault.status;
    }
    return this.random() < fault.failRate ? fault.status : null;
  }
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}
