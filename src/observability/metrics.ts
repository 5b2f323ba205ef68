/**
 * Prometheus metrics, served at `GET /metrics`. Each call makes its own registry (never
 * prom-client's global one), so tests and several app instances in one process do not collide.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcome of a call to a biller. */
export type BillerOutcome = 'ok' | 'unknown' | 'unavailable';

/** Values of `tasdeed_biller_circuit_state`. */
export const CIRCUIT_STATE = { closed: 0, halfOpen: 1, open: 2 } as const;
export type CircuitStateName = keyof typeof CIRCUIT_STATE;

/** Each metric, named as its Prometheus name in camelCase without the `tasdeed_` prefix. */
export interface Metrics {
  /** The registry to expose: `await registry.metrics()`, content type `registry.contentType`. */
  registry: Registry;
  /** `tasdeed_http_requests_total{route,method,status}` */
  httpRequestsTotal: Counter<'route' | 'method' | 'status'>;
  /** `tasdeed_http_request_duration_seconds{route,method}` */
  httpRequestDurationSeconds: Histogram<'route' | 'method'>;
  /** `tasdeed_inbound_messages_total{channel}` */
  inboundMessagesTotal: Counter<'channel'>;
  /** `tasdeed_replies_total{channel}` */
  repliesTotal: Counter<'channel'>;
  /** `tasdeed_biller_requests_total{biller,outcome}`, outcome a {@link BillerOutcome}. */
  billerRequestsTotal: Counter<'biller' | 'outcome'>;
  /** `tasdeed_biller_circuit_state{biller}`: a value of {@link CIRCUIT_STATE}. */
  billerCircuitState: Gauge<'biller'>;
  /** `tasdeed_payments_total{channel,status}` */
  paymentsTotal: Counter<'channel' | 'status'>;
  /** `tasdeed_payment_webhooks_total{channel,outcome}` */
  paymentWebhooksTotal: Counter<'channel' | 'outcome'>;
  /** `tasdeed_outbox_items_total{kind,lane,outcome}` */
  outboxItemsTotal: Counter<'kind' | 'lane' | 'outcome'>;
  /** `tasdeed_outbox_dispatch_seconds{kind}` */
  outboxDispatchSeconds: Histogram<'kind'>;
  /** `tasdeed_reconciliation_checks_total{outcome}` */
  reconciliationChecksTotal: Counter<'outcome'>;
  /** `tasdeed_reminders_planned_total` */
  remindersPlannedTotal: Counter;
  /** `tasdeed_broadcasts_total{outcome}` (created, cancelled) */
  broadcastsTotal: Counter<'outcome'>;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Dispatch includes the remote API call (Telegram, an SMS gateway): slower than our own routes.
const DISPATCH_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A fresh registry with the default process metrics (prefix `tasdeed_`) and Tasdeed's own. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tasdeed_' });
  const registers = [registry];

  return {
    registry,
    httpRequestsTotal: new Counter({
      name: 'tasdeed_http_requests_total',
      help: 'HTTP requests served, by route pattern, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpRequestDurationSeconds: new Histogram({
      name: 'tasdeed_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern and method.',
      labelNames: ['route', 'method'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    inboundMessagesTotal: new Counter({
      name: 'tasdeed_inbound_messages_total',
      help: 'Messages received from subscribers, by channel.',
      labelNames: ['channel'] as const,
      registers,
    }),
    repliesTotal: new Counter({
      name: 'tasdeed_replies_total',
      help: 'Replies produced for subscribers, by channel.',
      labelNames: ['channel'] as const,
      registers,
    }),
    billerRequestsTotal: new Counter({
      name: 'tasdeed_biller_requests_total',
      help: 'Calls to billers, by biller and outcome (ok, unknown account, unavailable).',
      labelNames: ['biller', 'outcome'] as const,
      registers,
    }),
    billerCircuitState: new Gauge({
      name: 'tasdeed_biller_circuit_state',
      help: 'Circuit breaker state per biller: 0 closed, 1 half-open, 2 open.',
      labelNames: ['biller'] as const,
      registers,
    }),
    paymentsTotal: new Counter({
      name: 'tasdeed_payments_total',
      help: 'Payment state changes, by payment channel and new status.',
      labelNames: ['channel', 'status'] as const,
      registers,
    }),
    paymentWebhooksTotal: new Counter({
      name: 'tasdeed_payment_webhooks_total',
      help: 'Payment provider callbacks, by channel and outcome.',
      labelNames: ['channel', 'outcome'] as const,
      registers,
    }),
    outboxItemsTotal: new Counter({
      name: 'tasdeed_outbox_items_total',
      help: 'Outbox items handled, by kind, lane and outcome.',
      labelNames: ['kind', 'lane', 'outcome'] as const,
      registers,
    }),
    outboxDispatchSeconds: new Histogram({
      name: 'tasdeed_outbox_dispatch_seconds',
      help: 'Time to dispatch one outbox item, by kind.',
      labelNames: ['kind'] as const,
      buckets: DISPATCH_BUCKETS,
      registers,
    }),
    reconciliationChecksTotal: new Counter({
      name: 'tasdeed_reconciliation_checks_total',
      help: 'Status queries for pending payments by the reconciliation job, by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    }),
    remindersPlannedTotal: new Counter({
      name: 'tasdeed_reminders_planned_total',
      help: 'Reminder rows written by the reminder job.',
      registers,
    }),
    broadcastsTotal: new Counter({
      name: 'tasdeed_broadcasts_total',
      help: 'Staff broadcasts, by outcome (created, cancelled).',
      labelNames: ['outcome'] as const,
      registers,
    }),
  };
}
