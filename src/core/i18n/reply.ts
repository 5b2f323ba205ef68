/**
 * What the core says, before any channel renders it: message keys with arguments, and the
 * choices a person can pick. Arguments are plain JSON so that a reply can wait in the outbox
 * and be rendered later, in the recipient's language at that time.
 */

export type ReplyArg =
  | string
  | number
  | { money: number; old?: boolean } // qirsh; old: always show the old-pound equivalent
  | { date: string } // YYYY-MM-DD
  | { biller: string } // biller id
  | { channel: string } // payment channel id
  | { gov: string } // governorate code
  | { ago: number } // milliseconds
  | { key: string }; // another message, e.g. a status name

export type ReplyArgs = Record<string, ReplyArg>;

export interface Reply {
  key: string;
  args?: ReplyArgs;
}

export interface Choice {
  key: string;
  args?: ReplyArgs;
  /** A canonical command the engine accepts back (button data / numbered SMS answer). */
  payload: string;
}

export interface ConversationResult {
  replies: Reply[];
  choices: Choice[];
}

export function reply(key: string, args?: ReplyArgs): Reply {
  return args ? { key, args } : { key };
}
