import type { Medium } from '../domain.js';
import type { SubscriberRecord } from '../ports/store.port.js';
import type { Choice, Reply } from './reply.js';
import { stripIsolation, type Translator } from './translator.js';

export interface RenderedConversation {
  replies: string[];
  choices: Array<{ label: string; payload: string }>;
}

/**
 * Renders a turn for a medium. On SMS the choices become numbered options at the end of the
 * last reply (the person answers "1", "2"); on Telegram they are buttons.
 */
export function renderTurn(
  translator: Translator,
  turn: { replies: Reply[]; choices: Choice[] },
  subscriber: Pick<SubscriberRecord, 'language' | 'showOldPounds'>,
  medium: Medium,
  options: { plain?: boolean } = {},
): RenderedConversation {
  const ctx = { language: subscriber.language, medium, showOldPounds: subscriber.showOldPounds };
  const clean = (text: string) => (medium === 'sms' || options.plain ? stripIsolation(text) : text);
  const replies = turn.replies.map((r) => clean(translator.render(r, ctx)));
  const choices = turn.choices.map((c) => ({
    label: clean(translator.render(c, ctx)),
    payload: c.payload,
  }));
  if (medium === 'sms' && choices.length > 0 && replies.length > 0) {
    const numbered = choices.map((c, i) => `${i + 1}) ${c.label}`).join(' ');
    replies[replies.length - 1] = `${replies[replies.length - 1]}\n${numbered}`;
  }
  return { replies, choices };
}
