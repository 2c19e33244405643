import { handleFanout, type FanoutPorts } from '../../../src/deliveries/fanout';
import {
  cancelScheduled,
  parseSendAt,
  scheduleMessage,
  sweepDue,
} from '../../../src/deliveries/schedule';
import { AppError } from '../../../src/errors/app-error';
import { silentLog } from '../../../src/ports/log';
import { frameFactory } from '../../../src/push/frames';
import type { Pusher } from '../../../src/push/pusher';
import {
  MemoryArtifactStore,
  MemoryFanoutQueue,
  MemoryMessageStore,
} from '../../support/memory-stores';
import { MemoryConnectionStore } from '../core/fakes';

const T0 = new Date('2026-11-22T10:00:00Z');

function setup(now = T0) {
  const clock = { now: () => now };
  const messages = new MemoryMessageStore();
  const fanout = new MemoryFanoutQueue();
  const artifacts = new MemoryArtifactStore();
  let n = 0;
  const newId = () => `00000000-0000-0000-0000-${String(++n).padStart(12, '0')}`;
  return {
    clock,
    messages,
    fanout,
    artifacts,
    ports: { messages, fanout, artifacts, clock, newId },
  };
}

describe('parseSendAt', () => {
  it.each([
    ['tomorrow', /ISO 8601/],
    ['2026-11-22T09:59:59Z', /in the past/],
    ['2028-01-01T00:00:00Z', /more than a year/],
    ['2026-13-40T99:00:00Z', /not a valid time/],
  ])('refuses %p', (value, message) => {
    expect(() => parseSendAt(value, T0)).toThrow(AppError);
    expect(() => parseSendAt(value, T0)).toThrow(message);
  });

  it('accepts an offset time', () => {
    expect(parseSendAt('2026-11-22T18:30:00+08:00', T0).toISOString()).toBe(
      '2026-11-22T10:30:00.000Z',
    );
  });
});

describe('scheduling', () => {
  it('queues a message due within the horizon at once, with its delay', async () => {
    // Prepare
    const { ports, fanout } = setup();
    // Act
    const rec = await scheduleMessage(
      { ...ports, queueWithinMs: 75_000 },
      { kind: 'all' },
      { data: 1 },
      new Date(T0.getTime() + 30_000),
    );
    // Assess
    expect(rec.state).toBe('queued');
    expect(fanout.sent).toEqual([
      { message: { kind: 'scheduled', scheduledId: rec.id }, delaySeconds: 30 },
    ]);
  });

  it('leaves a later message pending until the sweep reaches its minute', async () => {
    // Prepare
    const early = setup();
    const rec = await scheduleMessage(
      { ...early.ports, queueWithinMs: 75_000 },
      { kind: 'user', userId: 'u' },
      { data: 'x' },
      new Date(T0.getTime() + 10 * 60_000),
    );
    // Act: a sweep now, and one a minute before it is due
    const now = await sweepDue(early.ports, 75_000);
    const later = await sweepDue(
      { ...early.ports, clock: { now: () => new Date(T0.getTime() + 9 * 60_000) } },
      75_000,
    );
    // Assess
    expect(rec.state).toBe('pending');
    expect(now).toBe(0);
    expect(later).toBe(1);
    expect(early.fanout.sent[0]?.delaySeconds).toBe(60);
    expect(await early.messages.getScheduled(rec.id)).toMatchObject({ state: 'queued' });
  });

  it('keeps large data in the artifact store', async () => {
    const { ports, artifacts } = setup();
    const rec = await scheduleMessage(
      ports,
      { kind: 'all' },
      { data: 'y'.repeat(100_000) },
      new Date(T0.getTime() + 3_600_000),
    );
    expect(rec.data).toBeUndefined();
    expect(artifacts.items.has(rec.dataKey ?? '')).toBe(true);
  });

  it('cancels pending and queued messages, refuses sent ones, and 404s unknown ones', async () => {
    const { ports, messages } = setup();
    const rec = await scheduleMessage(
      ports,
      { kind: 'all' },
      { data: 1 },
      new Date(T0.getTime() + 3_600_000),
    );
    expect((await cancelScheduled(ports, rec.id)).state).toBe('cancelled');
    expect((await cancelScheduled(ports, rec.id)).state).toBe('cancelled');
    const sent = await scheduleMessage(
      ports,
      { kind: 'all' },
      { data: 2 },
      new Date(T0.getTime() + 3_600_000),
    );
    await messages.moveScheduled(sent.id, ['pending'], 'sent');
    await expect(cancelScheduled(ports, sent.id)).rejects.toMatchObject({ code: 'conflict' });
    await expect(cancelScheduled(ports, 's_nope')).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('sending a scheduled message', () => {
  function fanoutPorts(base: ReturnType<typeof setup>, pushTo: Pusher['pushTo']): FanoutPorts {
    const store = new MemoryConnectionStore();
    store.seed({ connectionId: 'c1', userId: 'u' });
    return {
      ...base.ports,
      store,
      pusher: { pushTo, push: pushTo } as unknown as Pusher,
      frames: frameFactory(base.clock),
      log: silentLog,
    };
  }

  it('skips a cancelled message', async () => {
    const base = setup();
    const rec = await scheduleMessage(
      base.ports,
      { kind: 'user', userId: 'u' },
      { data: 1 },
      new Date(T0.getTime() + 1000),
    );
    await cancelScheduled(base.ports, rec.id);
    const pushTo = jest.fn();
    expect(
      await handleFanout(fanoutPorts(base, pushTo), { kind: 'scheduled', scheduledId: rec.id }),
    ).toBe('skipped');
    expect(pushTo).not.toHaveBeenCalled();
  });

  it('gives the claim back when sending fails, so the retry sends it', async () => {
    // Prepare
    const base = setup();
    const rec = await scheduleMessage(
      base.ports,
      { kind: 'user', userId: 'u' },
      { data: 1 },
      new Date(T0.getTime() + 1000),
    );
    const failing = jest.fn().mockRejectedValueOnce(new Error('gateway down'));
    const ok = jest
      .fn()
      .mockResolvedValue({ attempted: 1, delivered: 1, gone: 0, failed: 0, retried: 0 });
    // Act
    await expect(
      handleFanout(fanoutPorts(base, failing), { kind: 'scheduled', scheduledId: rec.id }),
    ).rejects.toThrow('gateway down');
    const stateAfterFailure = (await base.messages.getScheduled(rec.id))?.state;
    const retried = await handleFanout(fanoutPorts(base, ok), {
      kind: 'scheduled',
      scheduledId: rec.id,
    });
    // Assess
    expect(stateAfterFailure).toBe('queued');
    expect(retried).toBe('delivered');
    expect(await base.messages.getScheduled(rec.id)).toMatchObject({ state: 'sent', delivered: 1 });
  });
});
