import { before, describe, it } from 'node:test';
describe('browser', { skip: '/usr/bin/chromium is missing: install it' }, () => {
  before(() => { throw new Error('before ran'); });
  it('x', () => { throw new Error('ran'); });
});
