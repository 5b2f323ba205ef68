/**
 * Update-to-reply latency of the Telegram front: an update is posted to POST /telegram/webhook
 * and the clock stops when the reply's sendMessage reaches the fake Bot API server. The path
 * measured is the whole production one: secret check, durable record, update worker, grammY,
 * conversation engine (simulated biller), outbox row, dispatcher, sendMessage.
 *
 *   npx tsx bench/telegram-latency.ts [updates=300] [concurrency=4]
 *
 * A quick probe on the test rig (test/support). The throughput and latency figures against a
 * bare grammY echo bot on the same Bot API stand-in are `npm run bench -- telegram`
 * (bench/fronts.ts), which measures the same path from the load generator's process.
 */
import { textUpdate } from '../test/support/fake-telegram.server.js';
import { startTelegram, postUpdate } from '../test/support/telegram.js';

const total = Number(process.argv[2] ?? 300);
const concurrency = Number(process.argv[3] ?? 4);
const TEXTS = ['فاتورة كهرباء 1000101', '/help', 'BILL water 2000301', '/reminders'];

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? NaN;
}

async function main(): Promise<void> {
  const rig = await startTelegram({ mode: 'webhook', env: { LOG_LEVEL: 'silent' } });
  try {
    const latencies: number[] = [];
    let next = 0;
    const worker = async (lane: number) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const chatId = 5_000_000 + lane; // each lane is one person: one message at a time
        const before = rig.fake.delivered(chatId).length;
        const started = performance.now();
        const status = await postUpdate(rig, {
          ...textUpdate(chatId, TEXTS[i % TEXTS.length] ?? '/help'),
          update_id: rig.fake.updateId(),
        });
        if (status !== 200) throw new Error(`webhook answered ${status}`);
        await rig.fake.waitForSent(chatId, before + 1, 10_000);
        latencies.push(performance.now() - started);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, lane) => worker(lane)));
    latencies.sort((a, b) => a - b);
    const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
    console.log(
      `telegram update-to-reply latency over ${latencies.length} updates, ${concurrency} chats in parallel:`,
    );
    console.log(`  p50 ${fmt(percentile(latencies, 50))}`);
    console.log(`  p95 ${fmt(percentile(latencies, 95))}`);
    console.log(`  max ${fmt(latencies[latencies.length - 1] ?? NaN)}`);
  } finally {
    await rig.close();
  }
}

await main();
