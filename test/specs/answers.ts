import type { ConnectionPoster } from '../../src/push/connection-poster';

/** A gateway that accepts every post and keeps each frame it was given, parsed. */
export class RecordingPoster implements ConnectionPoster {
  public readonly frames: { connectionId: string; frame: Record<string, unknown> }[] = [];

  public async post(connectionId: string, data: Uint8Array) {
    const frame = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>;
    this.frames.push({ connectionId, frame });
    return { result: 'delivered' as const };
  }

  public async isGone(): Promise<boolean> {
    return false;
  }
}
