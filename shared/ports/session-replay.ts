/** Product analytics with session recordings (PostHog). */

export interface SessionPerson {
  readonly id: string;
  readonly distinctIds: readonly string[];
  readonly email?: string;
}

export interface SessionRecording {
  readonly id: string;
  readonly replayUrl: string;
  readonly startTime: string;
  readonly endTime?: string;
  readonly durationSeconds: number;
  readonly activeSeconds?: number;
  readonly startUrl?: string;
  readonly consoleErrorCount: number;
  readonly clickCount?: number;
  readonly keypressCount?: number;
  readonly distinctId?: string;
}

export interface SessionException {
  readonly timestamp: string;
  readonly type: string;
  readonly message: string;
  readonly url?: string;
}

export interface RageClick {
  readonly timestamp: string;
  readonly url?: string;
  readonly element?: string;
}

export interface SessionInsights {
  readonly sessionId: string;
  readonly exceptions: readonly SessionException[];
  readonly rageClicks: readonly RageClick[];
  readonly pagesVisited: readonly string[];
}

export interface SessionReplay {
  findPersonByEmail(email: string): Promise<SessionPerson | null>;
  /** Recordings of one person since `dateFrom` (PostHog lists only 3 days without it). */
  listRecordings(input: { personId: string; dateFrom: Date; limit: number }): Promise<SessionRecording[]>;
  getRecording(sessionId: string): Promise<SessionRecording | null>;
  /** Exceptions, rage clicks and pages of one session, through a HogQL query. */
  getSessionInsights(sessionId: string): Promise<SessionInsights>;
}
