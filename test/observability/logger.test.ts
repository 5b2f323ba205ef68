import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createLogger,
  redactText,
  redactUrl,
  type Logger,
} from '../../src/observability/logger.js';

/** A logger whose lines are kept and parsed as JSON. */
function capture(level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level,
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  return { logger, lines };
}

function only(lines: Array<Record<string, unknown>>): Record<string, unknown> {
  assert.equal(lines.length, 1);
  return lines[0] ?? {};
}

const PHONE = '+963944123456';
const ACCOUNT = '1000101';
const SECRET = 'sup3r-s3cr3t-value';

void describe('createLogger', () => {
  void it('writes JSON lines at the given level', () => {
    const { logger, lines } = capture('warn');
    logger.info('not written');
    logger.warn({ billerId: 'electricity' }, 'biller slow');
    const line = only(lines);
    assert.equal(line.msg, 'biller slow');
    assert.equal(line.billerId, 'electricity', 'fields that are not sensitive are kept');
  });

  void it('writes nothing when silent', () => {
    const { logger, lines } = capture('silent');
    logger.error('x');
    assert.equal(lines.length, 0);
  });

  void it('redacts phone numbers, account numbers and secrets in top-level fields', () => {
    const { logger, lines } = capture();
    logger.info({
      phone: PHONE,
      from: PHONE,
      to: PHONE,
      address: PHONE,
      payerAddress: PHONE,
      account: ACCOUNT,
      walletNumber: PHONE,
      token: SECRET,
      secret: SECRET,
      password: SECRET,
      authorization: `Bearer ${SECRET}`,
      status: 'sent',
    });
    const line = only(lines);
    for (const key of [
      'phone',
      'from',
      'to',
      'address',
      'payerAddress',
      'account',
      'walletNumber',
      'token',
      'secret',
      'password',
      'authorization',
    ]) {
      assert.equal(line[key], '[redacted]', key);
    }
    assert.equal(line.status, 'sent');
  });

  void it('redacts them in nested objects and arrays', () => {
    const { logger, lines } = capture();
    logger.info({
      message: { from: PHONE, to: '+15005550006', channel: 'sms' },
      payment: { payerAddress: PHONE, account: ACCOUNT, walletNumber: PHONE, id: 'pay_1' },
      channel: { adapter: { webhookSecret: SECRET, token: SECRET, type: 'http' } },
      twilio: { password: SECRET, secret: SECRET },
      recipients: [{ phone: PHONE }, { address: PHONE }],
    });
    const text = JSON.stringify(only(lines));
    for (const value of [PHONE, '+15005550006', ACCOUNT, SECRET])
      assert.ok(!text.includes(value), `${value} in ${text}`);
    const line = only(lines) as {
      message: Record<string, unknown>;
      payment: Record<string, unknown>;
      channel: { adapter: Record<string, unknown> };
    };
    assert.equal(line.message.from, '[redacted]');
    assert.equal(line.message.channel, 'sms');
    assert.equal(line.payment.id, 'pay_1');
    assert.equal(line.channel.adapter.webhookSecret, '[redacted]');
    assert.equal(line.channel.adapter.type, 'http');
  });

  void it('redacts the authorization and signature headers of a request', () => {
    const { logger, lines } = capture();
    logger.info({
      req: {
        method: 'POST',
        url: '/telegram/webhook',
        headers: {
          authorization: `Bearer ${SECRET}`,
          'x-twilio-signature': SECRET,
          'x-tasdeed-signature': `t=1,v1=${SECRET}`,
          'x-telegram-bot-api-secret-token': SECRET,
          'content-type': 'application/json',
        },
      },
    });
    const line = only(lines) as { req: { url: string; headers: Record<string, unknown> } };
    assert.ok(!JSON.stringify(line).includes(SECRET));
    for (const header of [
      'authorization',
      'x-twilio-signature',
      'x-tasdeed-signature',
      'x-telegram-bot-api-secret-token',
    ]) {
      assert.equal(line.req.headers[header], '[redacted]', header);
    }
    assert.equal(line.req.headers['content-type'], 'application/json');
    assert.equal(line.req.url, '/telegram/webhook');
  });

  void it('masks numbers in the message text and in error messages and stacks', () => {
    const { logger, lines } = capture();
    logger.error(
      { err: new Error(`gateway refused ${PHONE} for account ${ACCOUNT}`) },
      `sending to ${PHONE} failed`,
    );
    const line = only(lines) as {
      msg: string;
      err: { message: string; stack: string; type: string };
    };
    assert.equal(line.msg, 'sending to +963******456 failed');
    assert.equal(line.err.message, 'gateway refused +963******456 for account *****01');
    assert.equal(line.err.type, 'Error');
    assert.ok(!line.err.stack.includes(PHONE) && !line.err.stack.includes(ACCOUNT), line.err.stack);
  });

  void it('redacts the session cookie it sets and the CSRF token a request carries', () => {
    const { logger, lines } = capture();
    logger.info({
      req: { headers: { 'x-csrf-token': SECRET, cookie: `tasdeed_console=${SECRET}` } },
      res: { headers: { 'set-cookie': `tasdeed_console=${SECRET}; HttpOnly` } },
    });
    assert.ok(!JSON.stringify(only(lines)).includes(SECRET));
  });

  void it('masks numbers in any string field, such as a provider error text', () => {
    const { logger, lines } = capture();
    logger.warn(
      { error: `Twilio 21211: The 'To' number ${PHONE} is not valid`, detail: { why: ACCOUNT } },
      'outbox item failed',
    );
    const line = only(lines) as { error: string; detail: { why: string }; time: number };
    assert.equal(line.error, "Twilio 21211: The 'To' number +963******456 is not valid");
    assert.equal(line.detail.why, '*****01');
    assert.equal(typeof line.time, 'number', 'numbers outside strings are left alone');
  });

  void it('masks numbers in printf-style arguments', () => {
    const { logger, lines } = capture();
    logger.info('reply to %s', PHONE);
    assert.equal(only(lines).msg, 'reply to +963******456');
  });
});

void describe('redactText', () => {
  void it('keeps the country code and the last 3 digits of a phone number', () => {
    assert.equal(redactText('+963944123456'), '+963******456');
    assert.equal(redactText('call +12025550123 now'), 'call +1*******123 now');
  });

  void it('keeps the last 2 digits of a run of 6 or more digits', () => {
    assert.equal(redactText('account 1000101'), 'account *****01');
    assert.equal(redactText('0944123456'), '********56');
  });

  void it('leaves short numbers, amounts and dates alone', () => {
    const text = 'كهرباء: 18750 ل.س، دورة 9-10، تستحق 28/11/2026';
    assert.equal(redactText(text), text);
  });

  void it('works on Arabic text with phone and account numbers, in any digit script', () => {
    assert.equal(
      redactText('فاتورة كهرباء 1000101 للرقم +963944123456'),
      'فاتورة كهرباء *****01 للرقم +963******456',
    );
    assert.equal(redactText('فاتورة مياه ٢٠٠٠٣٠١'), 'فاتورة مياه *****٠١');
    assert.equal(redactText('رقمي +٩٦٣٩٤٤١٢٣٤٥٦.'), 'رقمي +٩٦٣******٤٥٦.');
    assert.equal(redactText('حساب۱۲۳۴۵۶۷'), 'حساب*****۶۷');
  });

  void it('leaves digits inside identifiers alone', () => {
    assert.equal(
      redactText('payment pay_1234567 and hex ab1234567'),
      'payment pay_1234567 and hex ab1234567',
    );
  });
});

void describe('redactUrl', () => {
  void it('masks phone and account numbers in a percent-encoded query and in the path', () => {
    assert.equal(
      redactUrl('/sandbox/messages?channel=sms&from=%2B963944100021&after=3'),
      '/sandbox/messages?channel=sms&from=+963******021&after=3',
    );
    assert.equal(redactUrl('/x?from=+963944100021'), '/x?from=+963******021');
    assert.equal(redactUrl('/accounts/1000101/bills'), '/accounts/*****01/bills');
    assert.equal(redactUrl('/bad?%E0%A4%A=1000101'), '/bad?%E0%A4%A=*****01');
  });

  void it('replaces secret query parameters', () => {
    assert.equal(
      redactUrl('/sms/kannel/inbound?secret=abc%20def&from=x&TOKEN=t0k'),
      '/sms/kannel/inbound?secret=[redacted]&from=x&TOKEN=[redacted]',
    );
  });
});
