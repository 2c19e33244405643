import { INTERNAL_ERROR_MESSAGE, isAppError } from '../../src/errors/app-error';
import type { Log } from '../../src/ports/log';
import { errorFrame, type FrameFactory, type ServerFrame } from '../../src/push/frames';
import { faultDetails } from '../runtime/logger';

/**
 * The WebSocket edge's one error mapper: the error frame a client gets for anything that went
 * wrong with its frame (docs/protocol.md, "Client → server frames"). A domain error keeps its
 * message and answers with the general code of its kind (frames carry only the contract's
 * general codes); anything else is our fault, logged with its stack and answered `internal`
 * without detail. Either way the connection stays open.
 *
 * @param context logged with a fault (e.g. `{ connectionId, action }`)
 * @param requestId the client's requestId, echoed so it can match the answer
 */
export function wsErrorFrame(
  frames: FrameFactory,
  e: unknown,
  log: Log,
  context: Record<string, unknown>,
  requestId?: string,
): ServerFrame {
  if (isAppError(e) && e.kind !== 'internal') {
    if (e.kind === 'unavailable') log.error('unavailable', { ...context, error: faultDetails(e) });
    return errorFrame(frames, e.kind, e.message, requestId);
  }
  log.error('message failed', { ...context, error: faultDetails(e) });
  return errorFrame(frames, 'internal', INTERNAL_ERROR_MESSAGE, requestId);
}
