import { AppError } from '../errors/app-error';
import type { Audience } from '../connections/audience';
import type { ServerFrame } from '../push/frames';
import { streamOf } from './names';
import type { StreamLog } from './stream-log';

/**
 * The frame as it goes out to the audience: appended to the audience's stream first (it then
 * carries `stream` and `seq`), once per push however many connections receive it. Without a
 * log (a test, or the bench's "log off" run) or for a single connection, the frame as it is.
 * @throws AppError `unavailable` when the log cannot be written: the push fails (HTTP 503, a
 *   queue retry) rather than send a frame no resume could ever find.
 */
export async function sequenced(
  log: StreamLog | undefined,
  audience: Audience,
  frame: ServerFrame,
): Promise<ServerFrame> {
  const stream = streamOf(audience);
  if (!log || stream === undefined) return frame;
  try {
    return await log.append(stream, frame);
  } catch (e) {
    throw new AppError(
      'unavailable',
      'the stream history could not be written, so nothing was sent; try again',
      { cause: e },
    );
  }
}
