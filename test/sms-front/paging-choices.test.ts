/**
 * Every SMS answer keeps to 3 parts, not only the long lists that were paged (found by review:
 * "ADD" alone listed every biller of the catalogue as numbered choices, and a catalogue of 14
 * billers made that one answer 5 parts in Arabic). A turn over the budget now shows its choices
 * a page at a time, "1-5 من 14، أرسل المزيد", each page's numbers answering for that page.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseCatalogue } from '../../src/config/catalogue.js';
import { loadCatalogue } from '../../src/config/catalogue.js';
import type { Catalogue } from '../../src/core/catalogue.js';
import { smsTurn, startSms, type SmsRig } from './rig.js';

/** Billers beside the demo catalogue's three, as a large operator's catalogue might list. */
const MORE_BILLERS = [
  'مياه ريف دمشق',
  'كهرباء الساحل',
  'غاز المنازل',
  'الهاتف الثابت',
  'بلدية دمشق',
  'بلدية حلب',
  'النظافة العامة',
  'الصرف الصحي',
  'الإنترنت المنزلي',
  'رسوم المدارس',
  'ضريبة العقارات',
];

/** The demo catalogue with 14 simulated billers. */
function largeCatalogue(): Catalogue {
  const demo = loadCatalogue(null);
  if (!demo.ok) throw new Error(demo.problems.join('\n'));
  const parsed = parseCatalogue(
    {
      billers: [
        ...demo.catalogue.billers,
        ...MORE_BILLERS.map((ar, i) => ({
          id: `svc-${String.fromCharCode(97 + i)}`,
          name: { ar, en: `Service ${String.fromCharCode(65 + i)}` },
          accountPattern: '^[0-9]{6,12}$',
          adapter: { type: 'simulated' },
        })),
      ],
      paymentChannels: demo.catalogue.paymentChannels,
      coverage: demo.catalogue.coverage,
    },
    'large test catalogue',
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  return parsed.catalogue;
}

const BILLER_NAMES = ['الكهرباء', 'المياه', 'الاتصالات', ...MORE_BILLERS];
const FOOTER = /^(?:(\d+)-)?(\d+) من (\d+)، أرسل المزيد$/m;

/** The numbered choices of a page, in order: "1) الكهرباء 2) المياه" → their labels. */
function numbered(page: string): string[] {
  const labels = [...page.matchAll(/(\d+)\) ?([^\d\n]+?)(?= \d+\)|\n|$)/g)];
  labels.forEach((m, i) => assert.equal(Number(m[1]), i + 1, page));
  return labels.map((m) => m[2]!.trim());
}

describe('SMS: a question with more choices than fit 3 parts is paged', () => {
  let rig: SmsRig;
  before(async () => {
    rig = await startSms({ SMS_REPLIES_PER_HOUR: '60' }, { catalogue: largeCatalogue() });
  });
  after(async () => {
    await rig.close();
  });

  for (const [from, ask, question] of [
    ['+963944700001', 'اشترك', /^أي خدمة؟ مثال: اشترك كهرباء 1234567/],
    ['+963944700002', 'أخبرني', /^عن أي خدمة نخبرك؟/],
  ] as const) {
    it(`"${ask}" alone lists all 14 billers, a page of at most 3 parts at a time`, async () => {
      let page = (await smsTurn(rig, from, ask)).join('\n');
      assert.match(page, question);
      const shown: string[] = [];
      for (;;) {
        shown.push(...numbered(page));
        const footer = FOOTER.exec(page);
        if (!footer) break;
        assert.equal(Number(footer[3]), BILLER_NAMES.length, page);
        assert.equal(Number(footer[2]), shown.length, page);
        assert.ok(shown.length < 20, 'pages end');
        page = (await smsTurn(rig, from, 'المزيد')).join('\n');
      }
      assert.deepEqual(shown, BILLER_NAMES, 'every biller once, in order');
    });
  }

  it("a number answers for the page shown: page 2's 1 is the first biller on it", async () => {
    const from = '+963944700003';
    const first = numbered((await smsTurn(rig, from, 'اشترك')).join('\n'));
    assert.ok(first.length < BILLER_NAMES.length, 'paged');
    const second = numbered((await smsTurn(rig, from, 'المزيد')).join('\n'));
    assert.equal(second[0], BILLER_NAMES[first.length]);
    const asked = (await smsTurn(rig, from, '1')).join('\n');
    assert.equal(asked, `أرسل رقم حساب ${BILLER_NAMES[first.length]} فقط. مثال: 1234567`);
  });
});
