import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyAndroidFailure,
  classifyAndroidFailureReason,
  classifyTwilioDeliveryError,
  classifyTwilioFailure,
  retryAfterMs,
} from '../../src/sms/sms-errors.js';

describe('classifyTwilioFailure', () => {
  it('treats 21610 (unsubscribed) as an opt-out', () => {
    const r = classifyTwilioFailure({ httpStatus: 400, code: 21610 });
    assert.equal(r.status, 'opted-out');
    assert.equal(r.code, '21610');
  });

  for (const code of [21211, 21614, 21612, 21408, 21606]) {
    it(`fails ${code} (invalid or unreachable number, region) permanently`, () => {
      const r = classifyTwilioFailure({ httpStatus: 400, code });
      assert.equal(r.status, 'permanent');
      assert.equal(r.code, String(code));
    });
  }

  it('retries HTTP 429 and code 20429', () => {
    assert.equal(classifyTwilioFailure({ httpStatus: 429, code: 20429 }).status, 'temporary');
    assert.equal(classifyTwilioFailure({ httpStatus: 429 }).status, 'temporary');
    assert.equal(classifyTwilioFailure({ code: 20429 }).status, 'temporary');
  });

  it('retries 5xx and no answer at all', () => {
    assert.equal(classifyTwilioFailure({ httpStatus: 500, code: 20500 }).status, 'temporary');
    assert.equal(classifyTwilioFailure({ httpStatus: 503 }).status, 'temporary');
    const network = classifyTwilioFailure({ message: 'ECONNREFUSED' });
    assert.equal(network.status, 'temporary');
    assert.equal(network.code, 'NETWORK');
  });

  it('fails wrong credentials permanently, naming the variables to check', () => {
    const r = classifyTwilioFailure({ httpStatus: 401, code: 20003 });
    assert.equal(r.status, 'permanent');
    assert.match(r.error, /TWILIO_AUTH_TOKEN/);
  });

  it('fails an unknown 4xx permanently', () => {
    assert.equal(classifyTwilioFailure({ httpStatus: 400, code: 21999 }).status, 'permanent');
  });

  it('keeps a Retry-After delay on a temporary failure', () => {
    const r = classifyTwilioFailure({ httpStatus: 429, retryAfterMs: 2000 });
    assert.deepEqual(r.status === 'temporary' ? r.retryAfterMs : null, 2000);
  });
});

describe('classifyTwilioDeliveryError', () => {
  it('maps delivery-time codes: 30003 permanent, 30001 temporary, 21610 opted out', () => {
    assert.equal(classifyTwilioDeliveryError('30003', 'undelivered').status, 'permanent');
    assert.equal(classifyTwilioDeliveryError('30001', 'failed').status, 'temporary');
    assert.equal(classifyTwilioDeliveryError('21610', 'failed').status, 'opted-out');
    assert.equal(classifyTwilioDeliveryError('30007', 'undelivered').status, 'permanent');
    assert.equal(classifyTwilioDeliveryError(null, 'failed').status, 'permanent');
  });
});

describe('classifyAndroidFailure', () => {
  it('fails 401 and 400 permanently (configuration or a refused message)', () => {
    const auth = classifyAndroidFailure({ httpStatus: 401 });
    assert.equal(auth.status, 'permanent');
    assert.match(auth.error, /ANDROID_SMS_USER/);
    assert.equal(classifyAndroidFailure({ httpStatus: 400 }).status, 'permanent');
  });

  it('retries 429, 5xx and no answer', () => {
    assert.equal(classifyAndroidFailure({ httpStatus: 429 }).status, 'temporary');
    assert.equal(classifyAndroidFailure({ httpStatus: 500 }).status, 'temporary');
    assert.equal(classifyAndroidFailure({ httpStatus: 502 }).status, 'temporary');
    assert.equal(classifyAndroidFailure({ message: 'timed out' }).status, 'temporary');
  });

  it('classifies sms:failed reasons: carrier limits and radio trouble pass, a bad number does not', () => {
    assert.equal(classifyAndroidFailureReason('RESULT_ERROR_LIMIT_EXCEEDED').status, 'temporary');
    assert.equal(classifyAndroidFailureReason('RESULT_ERROR_GENERIC_FAILURE').status, 'temporary');
    assert.equal(classifyAndroidFailureReason('RESULT_ERROR_NO_SERVICE').status, 'temporary');
    assert.equal(classifyAndroidFailureReason('Invalid number').status, 'permanent');
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    assert.equal(retryAfterMs('3', 0), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(null, 0), undefined);
  });
});
