/*
 * SMS parts of a text, counted in the browser with the rule the server uses
 * (sms-segments-calculator, through measureSms in src/sms/sms-renderer.ts): GSM-7 when every
 * character is in the GSM-7 alphabet (160 in one part, 153 per part of a longer message, an
 * escaped character such as € counting two), UCS-2 otherwise (70 / 67, which every Arabic text
 * is); a character (grapheme) never straddles two parts. test/e2e/console-sms-parts.test.ts
 * checks that both agree.
 */
(function () {
  'use strict';
  var GSM =
    '\n\r !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz' +
    '¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ';
  var GSM_EXTENDED = '\f[\\]^{|}~€';
  /** One part is 140 octets; each part of a longer message gives 6 of them to its header. */
  var PART_BITS = 1120;
  var HEADER_BITS = 48;

  function graphemes(text) {
    var out = [];
    if (typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function') {
      var segments = new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text);
      for (var s of segments) {
        // CR LF is one grapheme, but two characters on the network.
        if (s.segment === '\r\n') out.push('\r', '\n');
        else out.push(s.segment);
      }
      return out;
    }
    return Array.from(text);
  }

  function isGsm(g) {
    return g.length === 1 && (GSM.indexOf(g) >= 0 || GSM_EXTENDED.indexOf(g) >= 0);
  }

  function sum(items) {
    var total = 0;
    for (var i = 0; i < items.length; i++) total += items[i];
    return total;
  }

  /** { encoding: 'GSM-7'|'UCS-2', units, parts } as measureSms gives it. */
  function measure(text) {
    var gs = graphemes(text);
    var ucs2 = gs.some(function (g) {
      return !isGsm(g);
    });
    var units = 0;
    var sizes = gs.map(function (g) {
      if (ucs2) return 16 * g.length;
      var extended = GSM_EXTENDED.indexOf(g) >= 0;
      units += extended ? 2 : 1;
      return extended ? 14 : 7;
    });
    // Fill parts as the network does: when a character does not fit, the previous part gets
    // its header (the characters that no longer fit move on) and a new part with one begins.
    var parts = [{ header: false, items: [] }];
    var current = parts[0];
    sizes.forEach(function (size) {
      var used = sum(current.items) + (current.header ? HEADER_BITS : 0);
      if (PART_BITS - used < size) {
        var next = { header: true, items: [] };
        if (!current.header) {
          current.header = true;
          var moved = [];
          while (sum(current.items) + HEADER_BITS > PART_BITS) moved.unshift(current.items.pop());
          next.items = moved;
        }
        parts.push(next);
        current = next;
      }
      current.items.push(size);
    });
    return {
      encoding: ucs2 ? 'UCS-2' : 'GSM-7',
      units: ucs2 ? text.length : units,
      parts: parts.length,
    };
  }

  globalThis.TasdeedSms = { measure: measure };
})();
