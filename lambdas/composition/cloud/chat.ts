import { systemClock } from '../../../src/ports/clock';
import { readChatSettings } from '../../config/chat-config';
import { once } from '../../runtime/lazy';
import { logger } from '../../runtime/logger';
import { buildChatNotifier } from '../chat';
import { documentClient } from './connections';

/** The WeCom chat notifier, rate-limited in the tasks table. */
export const chatNotifier = /* @__PURE__ */ once(() =>
  buildChatNotifier(
    { fetch, doc: documentClient(), clock: systemClock, log: logger },
    readChatSettings(process.env),
  ),
);
