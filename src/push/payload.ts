import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '../artifacts/artifact-store';
import type { Audience } from '../connections/audience';
import type { FrameFactory, ServerFrame } from './frames';
import { assertJsonDepth } from './json-depth';
import { messageTo, type Notification } from './notify';

/** API Gateway's cap on one WebSocket message (PostToConnection data). */
export const MAX_MESSAGE_BYTES = 128 * 1024;
/** How long the link to a large payload works. */
export const PAYLOAD_LINK_SECONDS = 60 * 60;

/**
 * Builds the `message` frame for a notification. Data that fits API Gateway's 128 KB message
 * cap goes inline; larger data is stored in the artifact store and the frame carries a
 * short-lived link instead (`dataUrl`, `dataBytes`, `dataSha256`, `dataExpiresAt`).
 * @throws AppError `bad_request` for data nested deeper than MAX_JSON_DEPTH.
 */
export async function buildMessageFrame(
  ports: { frames: FrameFactory; artifacts: ArtifactStore; now: () => Date },
  audience: Audience,
  notification: Notification,
): Promise<ServerFrame> {
  // First: everything below (JSON.stringify, the frame's encoding) recurses.
  assertJsonDepth(notification.data, 'data');
  const base = {
    to: messageTo(audience),
    ...(notification.from ? { from: notification.from } : {}),
  };
  const inline = ports.frames.make('message', { data: notification.data, ...base });
  if (Buffer.byteLength(JSON.stringify(inline)) <= MAX_MESSAGE_BYTES) return inline;
  const id = randomUUID();
  const ref = await ports.artifacts.put({
    key: `messages/${id}.json`,
    name: `${id}.json`,
    body: Buffer.from(JSON.stringify(notification.data)),
    contentType: 'application/json',
  });
  return ports.frames.make('message', {
    ...base,
    dataUrl: await ports.artifacts.link(ref.key, PAYLOAD_LINK_SECONDS),
    dataBytes: ref.size,
    dataSha256: ref.sha256,
    dataExpiresAt: new Date(ports.now().getTime() + PAYLOAD_LINK_SECONDS * 1000).toISOString(),
  });
}
