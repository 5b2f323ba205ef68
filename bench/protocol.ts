/**
 * What the benchmark's orchestrator (bench/index.ts) and its load generator (bench/load-client.ts,
 * a child process) say to each other over the IPC channel. The load generator runs in its own
 * process so that the cost of making requests is not charged to the server being measured.
 */

/** One HTTP request to send (always to 127.0.0.1). */
export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Sends `items` (cycled when there are fewer than maxCount) with `concurrency` requests in
 * flight, until maxCount requests are done or maxMs have passed, whichever comes first.
 */
export interface LoadJob {
  kind: 'load';
  port: number;
  items: RequestSpec[];
  concurrency: number;
  maxCount: number;
  maxMs: number;
  /** A 2xx answer whose body lacks this text is counted as unexpected. */
  expectBodyIncludes?: string;
  /**
   * Before the clock starts, each connection is opened with one GET of this path (answer
   * ignored), so that short segments do not measure TCP connection setup.
   */
  primePath?: string;
}

export interface LoadResult {
  kind: 'load';
  /** Latency of each completed request (ms), send to last byte of the answer. */
  latencies: number[];
  /** Wall time from the first send to the last answer (ms). */
  elapsedMs: number;
  completed: number;
  /** HTTP status → number of answers. */
  statuses: Record<string, number>;
  /** Requests that got no answer (connection error, timeout). */
  errors: number;
  unexpected: number;
  firstProblem: string | null;
}

/** One step of a receipt-latency job: a webhook, then the inbox to poll until it holds a message. */
export interface ReceiptStep {
  webhook: RequestSpec;
  poll: RequestSpec;
}

/**
 * Sequentially: send each webhook; once it is answered 200, poll (GET) the inbox every
 * `pollIntervalMs` until it lists at least one message, and time that wait. Bounded by the
 * number of steps, `maxMs` in all and `stepTimeoutMs` per step.
 */
export interface ReceiptJob {
  kind: 'receipt';
  port: number;
  steps: ReceiptStep[];
  pollIntervalMs: number;
  stepTimeoutMs: number;
  maxMs: number;
}

export interface ReceiptResult {
  kind: 'receipt';
  /** Webhook's 200 → receipt listed, per completed step (ms). */
  latencies: number[];
  /** Polls made per completed step. */
  polls: number[];
  /** Round-trip time of the polls themselves (ms), a bound on the resolution. */
  pollRtts: number[];
  timedOut: number;
  errors: number;
  firstProblem: string | null;
}

export type Job = LoadJob | ReceiptJob;
export type JobResult = LoadResult | ReceiptResult;

export type ToClient = { id: number; job: Job } | { id: number; stop: true };
export type FromClient =
  | { id: number; ok: true; result: JobResult }
  | { id: number; ok: false; error: string }
  | { ready: true };
