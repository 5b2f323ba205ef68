import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { CIRCUIT_STATE, createMetrics } from '../../src/observability/metrics.js';

const NAMED: Array<[string, 'counter' | 'gauge' | 'histogram']> = [
  ['tasdeed_http_requests_total', 'counter'],
  ['tasdeed_http_request_duration_seconds', 'histogram'],
  ['tasdeed_inbound_messages_total', 'counter'],
  ['tasdeed_replies_total', 'counter'],
  ['tasdeed_biller_requests_total', 'counter'],
  ['tasdeed_biller_circuit_state', 'gauge'],
  ['tasdeed_payments_total', 'counter'],
  ['tasdeed_payment_webhooks_total', 'counter'],
  ['tasdeed_outbox_items_total', 'counter'],
  ['tasdeed_outbox_dispatch_seconds', 'histogram'],
  ['tasdeed_reconciliation_checks_total', 'counter'],
];

void describe('createMetrics', () => {
  void it('exposes every named metric in Prometheus text format', async () => {
    const { registry } = createMetrics();
    const text = await registry.metrics();
    for (const [name, type] of NAMED) {
      assert.ok(text.includes(`# TYPE ${name} ${type}\n`), `${name} ${type}`);
      assert.ok(text.includes(`# HELP ${name} `), name);
    }
    assert.match(registry.contentType, /^text\/plain/);
  });

  void it('includes the default process metrics with the tasdeed_ prefix', async () => {
    const text = await createMetrics().registry.metrics();
    assert.match(text, /^# TYPE tasdeed_process_cpu_user_seconds_total counter$/m);
    assert.match(text, /^# TYPE tasdeed_nodejs_heap_size_used_bytes gauge$/m);
  });

  void it('records samples with their labels', async () => {
    const metrics = createMetrics();
    metrics.httpRequestsTotal.inc({ route: '/sandbox/messages', method: 'POST', status: '200' });
    metrics.httpRequestDurationSeconds.observe(
      { route: '/sandbox/messages', method: 'POST' },
      0.02,
    );
    metrics.inboundMessagesTotal.inc({ channel: 'sms' });
    metrics.repliesTotal.inc({ channel: 'telegram' }, 2);
    metrics.billerRequestsTotal.inc({ biller: 'electricity', outcome: 'unavailable' });
    metrics.billerCircuitState.set({ biller: 'electricity' }, CIRCUIT_STATE.open);
    metrics.paymentsTotal.inc({ channel: 'bank', status: 'succeeded' });
    metrics.paymentWebhooksTotal.inc({ channel: 'bank', outcome: 'duplicate' });
    metrics.outboxItemsTotal.inc({ kind: 'reply', lane: 'interactive', outcome: 'sent' });
    metrics.outboxDispatchSeconds.observe({ kind: 'reply' }, 0.3);
    metrics.reconciliationChecksTotal.inc({ outcome: 'still_pending' });
    const text = await metrics.registry.metrics();
    for (const sample of [
      'tasdeed_http_requests_total{route="/sandbox/messages",method="POST",status="200"} 1',
      'tasdeed_http_request_duration_seconds_bucket{le="0.025",route="/sandbox/messages",method="POST"} 1',
      'tasdeed_http_request_duration_seconds_count{route="/sandbox/messages",method="POST"} 1',
      'tasdeed_inbound_messages_total{channel="sms"} 1',
      'tasdeed_replies_total{channel="telegram"} 2',
      'tasdeed_biller_requests_total{biller="electricity",outcome="unavailable"} 1',
      'tasdeed_biller_circuit_state{biller="electricity"} 2',
      'tasdeed_payments_total{channel="bank",status="succeeded"} 1',
      'tasdeed_payment_webhooks_total{channel="bank",outcome="duplicate"} 1',
      'tasdeed_outbox_items_total{kind="reply",lane="interactive",outcome="sent"} 1',
      'tasdeed_outbox_dispatch_seconds_count{kind="reply"} 1',
      'tasdeed_reconciliation_checks_total{outcome="still_pending"} 1',
    ]) {
      assert.ok(text.includes(`${sample}\n`), sample);
    }
  });

  void it('gives each call its own registry, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.inboundMessagesTotal.inc({ channel: 'sms' });
    assert.ok(
      !(await b.registry.metrics()).includes('tasdeed_inbound_messages_total{channel="sms"}'),
    );
    assert.equal(globalRegistry.getSingleMetric('tasdeed_inbound_messages_total'), undefined);
  });
});
