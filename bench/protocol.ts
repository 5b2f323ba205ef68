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

/**
 * Starts a provider stand-in (bench/stand-ins.ts) in the load generator, where the replies of
 * the chat jobs arrive: the load generator then sees both ends of a conversation on one clock.
 * One at a time; a new one replaces the last.
 */
export interface SinkJob {
  kind: 'sink';
  provider: 'telegram' | 'twilio';
}

export interface SinkResult {
  kind: 'sink';
  url: string;
  credentials: Record<string, string>;
}

/**
 * People writing to a bot: `lanes` of them at once, each writing its next message once the
 * reply to the last has reached the provider stand-in started by the last sink job. Lane k
 * writes as addresses k, k + lanes, … in turn, so an address never has two messages in flight
 * and the n-th reply to it answers its n-th message.
 *
 * - telegram: a text update (unique update_id) POSTed to `path` with
 *   X-Telegram-Bot-Api-Secret-Token: `secret`; the reply is a sendMessage to the chat.
 * - twilio: an inbound SMS form (unique MessageSid) POSTed to `path`, signed with
 *   X-Twilio-Signature over `signedUrl` with the auth token `secret`; the reply is a message
 *   created through the REST API to the sender.
 */
export interface ChatJob {
  kind: 'chat';
  front: 'telegram' | 'twilio';
  port: number;
  path: string;
  secret: string;
  /** Twilio: the URL the server believes it is reached at (the signature covers it). */
  signedUrl?: string;
  /** Twilio: our number, the inbound message's To. */
  to?: string;
  /** Telegram chat ids or E.164 numbers. */
  addresses: string[];
  /** Texts, cycled over the messages. */
  texts: string[];
  lanes: number;
  maxCount: number;
  maxMs: number;
  /** A message whose reply takes longer than this counts as timed out (and its lane stops). */
  replyTimeoutMs: number;
  /** A 2xx answer to the webhook whose body lacks this is unexpected. */
  expectBodyIncludes?: string;
}

export interface ChatResult {
  kind: 'chat';
  /** Message sent → its reply's arrival at the stand-in (ms), per answered message. */
  latencies: number[];
  /** First send → last reply's arrival (ms). */
  elapsedMs: number;
  completed: number;
  /** HTTP status of the webhook's answer → count. */
  statuses: Record<string, number>;
  /** Webhooks without an answer (connection error, timeout). */
  errors: number;
  /** Webhooks answered non-2xx or without the expected body. */
  unexpected: number;
  /** Messages whose reply did not come within replyTimeoutMs. */
  timedOut: number;
  /** Messages the stand-in got for these addresses during the job, beyond one per message. */
  extraReplies: number;
  firstProblem: string | null;
}

export type Job = LoadJob | ReceiptJob | SinkJob | ChatJob;
export type JobResult = LoadResult | ReceiptResult | SinkResult | ChatResult;

export type ToClient = { id: number; job: Job } | { id: number; stop: true };
export type FromClient =
  | { id: number; ok: true; result: JobResult }
  | { id: number; ok: false; error: string }
  | { ready: true };
