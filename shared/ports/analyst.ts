/** The model that triages bug reports (Claude). */

export interface BugAnalysisResult {
  readonly rootCauseHypothesis: string;
  readonly affectedArea: string;
  /** 1 (cosmetic) … 5 (crash, data loss, blocks core use). */
  readonly severity: 1 | 2 | 3 | 4 | 5;
  readonly severityReason: string;
  readonly suggestedFix: string;
  /** 0 … 1 */
  readonly confidence: number;
  readonly model: string;
}

export interface TriageInput {
  /** Untrusted: written by whoever reported the bug. The adapter fences it as data. */
  readonly report: {
    readonly description: string;
    readonly consoleLogs?: string;
    readonly url?: string;
    readonly appVersion?: string;
    readonly deviceInfo?: Readonly<Record<string, unknown>>;
  };
  /** A plain-text summary of the PostHog session (exceptions, console errors, rage clicks, pages). */
  readonly replaySummary?: string;
}

export interface Analyst {
  /**
   * Throws ServiceError('anthropic', …, {retryable}) when the model is unavailable; an answer that
   * does not match the schema is a retryable ServiceError too (the model may do better next time).
   */
  analyzeBug(input: TriageInput): Promise<BugAnalysisResult>;
}
