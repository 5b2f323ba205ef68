import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseEnv, type AppConfig } from '../../src/config/env.js';

function config(env: NodeJS.ProcessEnv): AppConfig {
  const result = parseEnv(env);
  if (!result.ok) assert.fail(`unexpected problems:\n${result.problems.join('\n')}`);
  return result.config;
}

function problems(env: NodeJS.ProcessEnv): string[] {
  const result = parseEnv(env);
  if (result.ok) assert.fail('expected problems, got a configuration');
  return result.problems;
}

/** Exactly one problem, for that variable, containing every given fragment. */
function oneProblem(env: NodeJS.ProcessEnv, variable: string, ...fragments: string[]): string {
  const found = problems(env);
  assert.equal(found.length, 1, found.join('\n'));
  const line = found[0] ?? '';
  assert.ok(line.startsWith(`${variable}: `), line);
  for (const fragment of fragments)
    assert.ok(line.includes(fragment), `${JSON.stringify(fragment)} not in: ${line}`);
  return line;
}

const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC0123',
  TWILIO_AUTH_TOKEN: 'twilio-auth-token-value',
  TWILIO_FROM: '+15005550006',
};
const ANDROID = {
  ANDROID_SMS_URL: 'http://192.168.1.20:8080/',
  ANDROID_SMS_USER: 'sms',
  ANDROID_SMS_PASSWORD: 'android-password-value',
  ANDROID_SMS_WEBHOOK_SECRET: 'android-webhook-secret-value',
};

void describe('parseEnv', () => {
  void it('gives every default of docs/design.md §3 for an empty environment', () => {
    assert.deepEqual(config({}), {
      port: 3000,
      host: '0.0.0.0',
      database: { kind: 'sqlite', file: './data/tasdeed.db' },
      publicUrl: 'http://localhost:3000',
      cataloguePath: null,
      timezone: 'Asia/Damascus',
      adminToken: null,
      telegram: null,
      sms: { gateways: [], routes: { twilio: [], android: [] }, twilio: null, android: null },
      limits: {
        smsPerSecond: 10,
        smsPerSecondAndroid: 1,
        smsRepliesPerHour: 20,
        telegramBulkPerSecond: 25,
      },
      subscriberLimits: { maxFollows: 10, maxOpenPayments: 3, paymentStartsPerHour: 5 },
      sandbox: 'auto',
      realFronts: [],
      reminders: { offsets: [-3, 0, 3], sendHour: 10 },
      quietHours: { start: 21, end: 8 },
      retentionDays: 180,
      logLevel: 'info',
      http: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 1_000,
        trustProxy: false,
        metricsToken: null,
      },
    } satisfies AppConfig);
  });

  void it('treats blank values as unset', () => {
    assert.deepEqual(config({ PORT: '', LOG_LEVEL: '  ', TASDEED_ADMIN_TOKEN: '' }), config({}));
  });

  void it('reads a full configuration', () => {
    const c = config({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://tasdeed:pw@db.internal:5432/tasdeed',
      PUBLIC_URL: 'https://tasdeed.example.org/',
      TASDEED_CATALOGUE: './catalogue.json',
      TASDEED_TIMEZONE: 'UTC',
      TASDEED_ADMIN_TOKEN: 'a-long-admin-token-0123',
      TELEGRAM_BOT_TOKEN: '123456:ABC-def',
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9000/',
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: 'Abc_123-xyz',
      TELEGRAM_STAFF_IDS: '111, 222,,111',
      SMS_GATEWAY: 'android,twilio',
      SMS_ROUTE_TWILIO: '+1,+44',
      SMS_ROUTE_ANDROID: '+963',
      TWILIO_API_ROOT: 'http://127.0.0.1:9001',
      ...TWILIO,
      ...ANDROID,
      SMS_MAX_PER_SECOND: '2.5',
      SMS_MAX_PER_SECOND_ANDROID: '0.5',
      SMS_REPLIES_PER_HOUR: '5',
      TELEGRAM_BULK_PER_SECOND: '20',
      TASDEED_MAX_FOLLOWS: '25',
      TASDEED_MAX_OPEN_PAYMENTS: '2',
      TASDEED_PAYMENT_STARTS_PER_HOUR: '12',
      TASDEED_SANDBOX: '1',
      TASDEED_REMINDER_OFFSETS: '7,-1,0,7',
      TASDEED_SEND_HOUR: '9',
      TASDEED_QUIET_HOURS: '22-7',
      TASDEED_RETENTION_DAYS: '14',
      LOG_LEVEL: 'debug',
      HTTP_HEADERS_TIMEOUT_MS: '5000',
      HTTP_REQUEST_TIMEOUT_MS: '20000',
      HTTP_KEEPALIVE_TIMEOUT_MS: '65000',
      HTTP_MAX_CONNECTIONS: '200',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
      METRICS_TOKEN: 'a-long-metrics-token-0123',
    });
    assert.deepEqual(c, {
      port: 8080,
      host: '127.0.0.1',
      database: { kind: 'postgresql', url: 'postgresql://tasdeed:pw@db.internal:5432/tasdeed' },
      publicUrl: 'https://tasdeed.example.org',
      cataloguePath: './catalogue.json',
      timezone: 'UTC',
      adminToken: 'a-long-admin-token-0123',
      telegram: {
        token: '123456:ABC-def',
        apiRoot: 'http://127.0.0.1:9000',
        staffIds: [111, 222],
        mode: 'webhook',
        webhookSecret: 'Abc_123-xyz',
      },
      sms: {
        gateways: ['android', 'twilio'],
        routes: { twilio: ['+1', '+44'], android: ['+963'] },
        twilio: {
          accountSid: 'AC0123',
          authToken: 'twilio-auth-token-value',
          from: '+15005550006',
          apiRoot: 'http://127.0.0.1:9001',
        },
        android: {
          url: 'http://192.168.1.20:8080',
          user: 'sms',
          password: 'android-password-value',
          webhookSecret: 'android-webhook-secret-value',
        },
      },
      limits: {
        smsPerSecond: 2.5,
        smsPerSecondAndroid: 0.5,
        smsRepliesPerHour: 5,
        telegramBulkPerSecond: 20,
      },
      subscriberLimits: { maxFollows: 25, maxOpenPayments: 2, paymentStartsPerHour: 12 },
      sandbox: 'on',
      realFronts: ['telegram', 'sms'],
      reminders: { offsets: [-1, 0, 7], sendHour: 9 },
      quietHours: { start: 22, end: 7 },
      retentionDays: 14,
      logLevel: 'debug',
      http: {
        headersTimeoutMs: 5_000,
        requestTimeoutMs: 20_000,
        keepAliveTimeoutMs: 65_000,
        maxConnections: 200,
        trustProxy: ['loopback', '10.0.0.0/8'],
        metricsToken: 'a-long-metrics-token-0123',
      },
    } satisfies AppConfig);
  });

  void describe('the HTTP server', () => {
    void it('takes what Express takes for TRUST_PROXY', () => {
      const trust = (value: string) => config({ TRUST_PROXY: value }).http.trustProxy;
      assert.equal(trust('true'), true);
      assert.equal(trust('FALSE'), false);
      assert.equal(trust('2'), 2);
      assert.deepEqual(trust('loopback'), ['loopback']);
      assert.deepEqual(trust('linklocal,uniquelocal, 192.168.0.1, 10.0.0.0/255.0.0.0, fe80::/10'), [
        'linklocal',
        'uniquelocal',
        '192.168.0.1',
        '10.0.0.0/255.0.0.0',
        'fe80::/10',
      ]);
    });

    void it('refuses a TRUST_PROXY it cannot use, one line per item', () => {
      const found = problems({ TRUST_PROXY: 'loopback, lb.internal, 10.0.0.0/33' });
      assert.deepEqual(
        found.map((line) => line.slice(0, line.indexOf(' is not'))),
        ['TRUST_PROXY: "lb.internal"', 'TRUST_PROXY: "10.0.0.0/33"'],
      );
      oneProblem({ TRUST_PROXY: '1000' }, 'TRUST_PROXY', 'hops');
    });

    void it('refuses timeouts and a connection cap that are not positive integers', () => {
      for (const name of [
        'HTTP_HEADERS_TIMEOUT_MS',
        'HTTP_REQUEST_TIMEOUT_MS',
        'HTTP_KEEPALIVE_TIMEOUT_MS',
        'HTTP_MAX_CONNECTIONS',
      ]) {
        for (const value of ['0', '-5', '1.5', 'ten'])
          oneProblem({ [name]: value }, name, JSON.stringify(value), 'an integer from 1');
      }
    });

    void it('refuses a header timeout longer than the request timeout', () => {
      oneProblem(
        { HTTP_HEADERS_TIMEOUT_MS: '40000' },
        'HTTP_HEADERS_TIMEOUT_MS',
        'longer than HTTP_REQUEST_TIMEOUT_MS (30000)',
      );
    });

    void it('refuses a short METRICS_TOKEN without echoing it', () => {
      const line = oneProblem({ METRICS_TOKEN: 'short-token' }, 'METRICS_TOKEN', '16 characters');
      assert.ok(!line.includes('short-token'));
    });
  });

  void it('derives PUBLIC_URL from PORT', () => {
    assert.equal(config({ PORT: '8081' }).publicUrl, 'http://localhost:8081');
  });

  void describe('DATABASE_URL', () => {
    void it('takes the SQLite file path from a file: URL', () => {
      assert.deepEqual(config({ DATABASE_URL: 'file:./x/y.db' }).database, {
        kind: 'sqlite',
        file: './x/y.db',
      });
      assert.deepEqual(config({ DATABASE_URL: 'file:/tmp/t.db' }).database, {
        kind: 'sqlite',
        file: '/tmp/t.db',
      });
      assert.deepEqual(config({ DATABASE_URL: 'file:///tmp/t.db' }).database, {
        kind: 'sqlite',
        file: '/tmp/t.db',
      });
      assert.deepEqual(config({ DATABASE_URL: 'file:dev.db?connection_limit=1' }).database, {
        kind: 'sqlite',
        file: 'dev.db',
      });
    });

    void it('takes postgres:// as well as postgresql://', () => {
      assert.deepEqual(config({ DATABASE_URL: 'postgres://u@h/db' }).database, {
        kind: 'postgresql',
        url: 'postgres://u@h/db',
      });
    });

    void it('refuses other schemes without echoing the URL (it may hold a password)', () => {
      const line = oneProblem(
        { DATABASE_URL: 'mysql://root:hunter2@db/x' },
        'DATABASE_URL',
        '"mysql:"',
        'file:',
        'postgresql://',
      );
      assert.ok(!line.includes('hunter2'), line);
    });

    void it('refuses a file: URL with no path', () => {
      oneProblem({ DATABASE_URL: 'file:' }, 'DATABASE_URL', 'names no file');
    });
  });

  void describe('one specific line per invalid value', () => {
    const cases: Array<[string, string, string[]]> = [
      ['PORT', 'abc', ['"abc" is not a port number (1-65535)']],
      ['PORT', '0', ['"0" is not a port number']],
      ['PORT', '70000', ['"70000" is not a port number']],
      ['PUBLIC_URL', 'ftp://x.org', ['"ftp://x.org"', 'http']],
      ['PUBLIC_URL', 'not a url', ['"not a url"', 'not a URL']],
      ['TASDEED_TIMEZONE', 'Mars/Olympus', ['"Mars/Olympus" is not an IANA time zone']],
      ['TELEGRAM_MODE', 'push', ['"push"', 'polling or webhook']],
      ['TELEGRAM_API_ROOT', 'api.telegram.org', ['"api.telegram.org"', 'URL']],
      ['TELEGRAM_STAFF_IDS', '12,abc', ['"abc" is not a Telegram user id']],
      ['SMS_GATEWAY', 'pigeon', ['"pigeon" is not a gateway', 'twilio', 'android', 'none']],
      ['SMS_ROUTE_TWILIO', '+1,963', ['"963" is not a number prefix', '+963']],
      ['SMS_ROUTE_ANDROID', '+96x', ['"+96x" is not a number prefix']],
      ['TWILIO_API_ROOT', 'twilio', ['"twilio"', 'URL']],
      ['SMS_MAX_PER_SECOND', '0', ['"0"', 'greater than 0']],
      ['SMS_MAX_PER_SECOND_ANDROID', '-1', ['"-1"', 'greater than 0']],
      ['SMS_REPLIES_PER_HOUR', '2.5', ['"2.5"', 'integer']],
      ['SMS_REPLIES_PER_HOUR', '0', ['"0"', 'from 1']],
      ['TELEGRAM_BULK_PER_SECOND', 'fast', ['"fast"', 'greater than 0']],
      ['TASDEED_MAX_FOLLOWS', '0', ['"0"', 'a number of accounts', 'from 1 to 100']],
      ['TASDEED_MAX_FOLLOWS', 'ten', ['"ten"', 'integer']],
      ['TASDEED_MAX_OPEN_PAYMENTS', '0', ['"0"', 'a number of payments', 'from 1 to 100']],
      ['TASDEED_PAYMENT_STARTS_PER_HOUR', '-5', ['"-5"', 'a number of payments', 'from 1 to 100']],
      ['TASDEED_SANDBOX', 'yes', ['"yes"', '1', '0']],
      ['TASDEED_REMINDER_OFFSETS', '-3,x,3', ['"x" is not a day offset', '-60', '60']],
      ['TASDEED_REMINDER_OFFSETS', '90', ['"90" is not a day offset']],
      ['TASDEED_SEND_HOUR', '24', ['"24"', 'from 0 to 23']],
      ['TASDEED_QUIET_HOURS', '21', ['"21" is not an hour range', '21-8']],
      ['TASDEED_QUIET_HOURS', '21-25', ['"21-25" is not an hour range']],
      ['TASDEED_QUIET_HOURS', '8-8', ['"8-8"', 'same hour']],
      ['TASDEED_RETENTION_DAYS', '13', ['"13"', 'at least 14 days', 'deduplication']],
      ['TASDEED_RETENTION_DAYS', '0', ['"0"', 'at least 14 days']],
      ['TASDEED_RETENTION_DAYS', 'forever', ['"forever" is not a number of days']],
      ['TASDEED_RETENTION_DAYS', '30.5', ['"30.5" is not a number of days']],
      ['LOG_LEVEL', 'verbose', ['"verbose" is not a log level', 'silent']],
    ];
    for (const [variable, value, fragments] of cases) {
      void it(`${variable}=${value}`, () => {
        oneProblem({ [variable]: value }, variable, ...fragments);
      });
    }

    void it('TASDEED_ADMIN_TOKEN shorter than 16 characters', () => {
      oneProblem({ TASDEED_ADMIN_TOKEN: 'short' }, 'TASDEED_ADMIN_TOKEN', '16');
    });

    void it('TELEGRAM_WEBHOOK_SECRET with characters Telegram refuses', () => {
      oneProblem(
        {
          TELEGRAM_BOT_TOKEN: '1:x',
          TELEGRAM_MODE: 'webhook',
          TELEGRAM_WEBHOOK_SECRET: 'has spaces!',
        },
        'TELEGRAM_WEBHOOK_SECRET',
        '1-256',
        'A-Z',
      );
      oneProblem(
        {
          TELEGRAM_BOT_TOKEN: '1:x',
          TELEGRAM_MODE: 'webhook',
          TELEGRAM_WEBHOOK_SECRET: 'a'.repeat(257),
        },
        'TELEGRAM_WEBHOOK_SECRET',
        '1-256',
      );
    });

    void it('SMS_GATEWAY mixing none with a gateway', () => {
      oneProblem({ SMS_GATEWAY: 'none,twilio', ...TWILIO }, 'SMS_GATEWAY', '"none"');
    });
  });

  void it('reports several problems at once, one line each', () => {
    const found = problems({
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      TASDEED_SEND_HOUR: '-1',
      TASDEED_TIMEZONE: 'Nowhere',
    });
    assert.equal(found.length, 4, found.join('\n'));
    for (const variable of ['PORT', 'LOG_LEVEL', 'TASDEED_SEND_HOUR', 'TASDEED_TIMEZONE']) {
      assert.ok(
        found.some((line) => line.startsWith(`${variable}: `)),
        variable,
      );
    }
    for (const line of found) assert.ok(!line.includes('\n'), line);
  });

  void describe('Telegram', () => {
    void it('is off without a token', () => {
      assert.equal(config({ TELEGRAM_MODE: 'webhook' }).telegram, null);
    });

    void it('polls by default, with no webhook secret in the config', () => {
      assert.deepEqual(
        config({ TELEGRAM_BOT_TOKEN: '1:abc', TELEGRAM_WEBHOOK_SECRET: 'unused' }).telegram,
        {
          token: '1:abc',
          apiRoot: 'https://api.telegram.org',
          staffIds: [],
          mode: 'polling',
        },
      );
    });

    void it('needs TELEGRAM_WEBHOOK_SECRET in webhook mode', () => {
      oneProblem(
        { TELEGRAM_BOT_TOKEN: '1:abc', TELEGRAM_MODE: 'webhook' },
        'TELEGRAM_WEBHOOK_SECRET',
        'required',
        'webhook',
      );
    });
  });

  void describe('SMS gateways', () => {
    void it('needs the three Twilio settings when twilio is listed: one line each', () => {
      const found = problems({ SMS_GATEWAY: 'twilio' });
      assert.equal(found.length, 3, found.join('\n'));
      for (const variable of ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM']) {
        assert.ok(
          found.some(
            (line) => line.startsWith(`${variable}: is required`) && line.includes('twilio'),
          ),
          variable,
        );
      }
    });

    void it('needs the four Android settings when android is listed', () => {
      const found = problems({ SMS_GATEWAY: 'android', ANDROID_SMS_USER: 'sms' });
      assert.deepEqual(found.map((line) => line.split(':')[0]).sort(), [
        'ANDROID_SMS_PASSWORD',
        'ANDROID_SMS_URL',
        'ANDROID_SMS_WEBHOOK_SECRET',
      ]);
    });

    void it('ignores gateway credentials while that gateway is not listed', () => {
      const c = config({ ...TWILIO, SMS_GATEWAY: 'none' });
      assert.deepEqual(c.sms.gateways, []);
      assert.equal(c.sms.twilio, null);
    });

    void it('keeps the order of SMS_GATEWAY and drops repeats', () => {
      assert.deepEqual(config({ SMS_GATEWAY: 'Twilio, twilio', ...TWILIO }).sms.gateways, [
        'twilio',
      ]);
    });
  });

  void describe('TASDEED_SANDBOX', () => {
    void it('is left to the start-up decision when unset', () => {
      assert.equal(config({}).sandbox, 'auto');
      assert.equal(config({ TELEGRAM_BOT_TOKEN: '1:abc' }).sandbox, 'auto');
    });

    void it('follows 1 and 0 whatever else is configured', () => {
      assert.equal(config({ TASDEED_SANDBOX: '0' }).sandbox, 'off');
      assert.equal(config({ TASDEED_SANDBOX: '1', TELEGRAM_BOT_TOKEN: '1:abc' }).sandbox, 'on');
      assert.equal(config({ TASDEED_SANDBOX: 'true' }).sandbox, 'on');
    });
  });

  void describe('real fronts', () => {
    void it('lists Telegram, SMS and USSD as configured', () => {
      assert.deepEqual(config({}).realFronts, []);
      assert.deepEqual(config({ TELEGRAM_BOT_TOKEN: '1:abc' }).realFronts, ['telegram']);
      assert.deepEqual(config({ SMS_GATEWAY: 'twilio', ...TWILIO }).realFronts, ['sms']);
      assert.deepEqual(config({ USSD_WEBHOOK_SECRET: 'ussd-secret-0123456789' }).realFronts, [
        'ussd',
      ]);
    });
  });

  void describe('TASDEED_QUIET_HOURS', () => {
    void it('parses a window that wraps midnight', () => {
      assert.deepEqual(config({ TASDEED_QUIET_HOURS: '21-8' }).quietHours, { start: 21, end: 8 });
    });

    void it('parses a window within one day, with spaces', () => {
      assert.deepEqual(config({ TASDEED_QUIET_HOURS: '0 - 6' }).quietHours, { start: 0, end: 6 });
    });
  });

  void it('deduplicates and sorts reminder offsets', () => {
    assert.deepEqual(
      config({ TASDEED_REMINDER_OFFSETS: '3, -3, 0, +3, -60, 60' }).reminders.offsets,
      [-60, -3, 0, 3, 60],
    );
  });

  void it('canonicalises the time zone spelling', () => {
    assert.equal(config({ TASDEED_TIMEZONE: 'asia/damascus' }).timezone, 'Asia/Damascus');
  });

  void it('never puts a secret value in a problem line', () => {
    const secrets = {
      TELEGRAM_BOT_TOKEN: '9999:TOPSECRET-bot-token',
      TELEGRAM_MODE: 'webhook',
      TELEGRAM_WEBHOOK_SECRET: 'TOPSECRET webhook secret!',
      TASDEED_ADMIN_TOKEN: 'TOPSECRET',
      SMS_GATEWAY: 'twilio,android',
      TWILIO_AUTH_TOKEN: 'TOPSECRET-twilio',
      ANDROID_SMS_URL: 'ftp://user:TOPSECRET@phone',
      ANDROID_SMS_PASSWORD: 'TOPSECRET-android',
      ANDROID_SMS_WEBHOOK_SECRET: 'TOPSECRET-android-webhook',
      DATABASE_URL: 'postgresql://user:TOPSECRET@',
    };
    const found = problems(secrets);
    // The webhook secret, the admin token, the Android URL, the database URL, and the missing
    // TWILIO_ACCOUNT_SID, TWILIO_FROM and ANDROID_SMS_USER.
    assert.equal(found.length, 7, found.join('\n'));
    for (const line of found) assert.ok(!line.includes('TOPSECRET'), line);
  });
});
