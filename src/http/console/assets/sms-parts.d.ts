/** What sms-parts.js (a browser script) puts on the global object; tests import it in Node. */
export {};

declare global {
  var TasdeedSms: {
    /** SMS encoding, length in the encoding's units, and parts, as measureSms counts them. */
    measure: (text: string) => { encoding: 'GSM-7' | 'UCS-2'; units: number; parts: number };
  };
}
