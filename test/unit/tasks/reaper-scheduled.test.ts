import { createSchedulerHandler } from '../../../lambdas/workers/scheduler';
import { DynamoMessageStore } from '../../../src/adapters/dynamodb/message-store';
import {
  dueMinuteOf,
  type ScheduledRecord,
  type ScheduleState,
} from '../../../src/deliveries/records';
import { isStuck, recoverStuck, STUCK_AFTER } from '../../../src/deliveries/schedule';
import { MESSAGES_TABLE } from '../../../src/deliveries/schema';
import { silentLog } from '../../../src/ports/log';
import { MemoryFanoutQueue } from '../../support/memory-stores';
import { useDynalite } from '../../support/dynalite';

/**
 * Scheduled messages whose fan-out message or sender was lost (an SQS send that failed after the
 * move, queues gone with a killed local runtime) are queued again, once, so each is sent.
 */

const T0 = new Date('2030-03-01T12:00:00.000Z');
const SECOND = 1000;

const db = useDynalite();
let n = 0;

async function setup() {
  let now = T0.getTime();
  const clock = { now: () => new Date(now) };
  const table = `messages-${++n}`;
  await db.createTable(table, MESSAGES_TABLE);
  const messages = new DynamoMessageStore(db.doc, table, clock);
  const fanout = new MemoryFanoutQueue();
  /** A scheduled message due `inMs` from now, moved to `state` now. */
  const scheduled = async (state: ScheduleState, inMs: number): Promise<ScheduledRecord> => {
    const sendAt = new Date(now + inMs);
    const record: ScheduledRecord = {
      id: `s_recovery-${++n}`,
      kind: 'scheduled',
      state: 'pending',
      audience: { kind: 'all' },
      data: 'x',
      sendAt: sendAt.toISOString(),
      dueMinute: dueMinuteOf(sendAt),
      createdAt: clock.now().toISOString(),
      expiresAt: Math.floor(now / 1000) + 3600,
    };
    await messages.createScheduled(record);
    if (state !== 'pending') await messages.moveScheduled(record.id, ['pending'], state);
    return record;
  };
  const ports = { messages, fanout, clock };
  return { ports, messages, fanout, scheduled, advance: (ms: number) => void (now += ms) };
}

describe('isStuck', () => {
  const base = { id: 's_x', sendAt: T0.toISOString(), movedAt: T0.toISOString() };
  it.each([
    ['queued, just past sendAt', false, 'queued', 10 * SECOND],
    ['queued, past sendAt by the queued threshold', true, 'queued', 2 * 60 * SECOND],
    ['sending, for less than the sending threshold', false, 'sending', 4 * 60 * SECOND],
    ['sending, for the sending threshold', true, 'sending', 5 * 60 * SECOND],
  ] as const)('%s → stuck: %p', (_name, expected, state, afterMs) => {
    expect(isStuck({ ...base, state }, new Date(T0.getTime() + afterMs), STUCK_AFTER)).toBe(
      expected,
    );
  });

  it('counts every handed-on message as stuck after a start (`all`)', () => {
    expect(isStuck({ ...base, state: 'queued' }, T0, 'all')).toBe(true);
    expect(isStuck({ ...base, state: 'sending' }, T0, 'all')).toBe(true);
  });
});

describe('recoverStuck', () => {
  it('queues a lost queued message and a sender-less sending one again, once, and no other', async () => {
    // Prepare
    const t = await setup();
    const lostQueued = await t.scheduled('queued', 0);
    const lostSending = await t.scheduled('sending', 0);
    const pending = await t.scheduled('pending', 30 * 60 * SECOND);
    t.advance(6 * 60 * SECOND);
    const fresh = await t.scheduled('queued', 0);
    // Act: two recoveries at once, then one more
    const counts = await Promise.all([
      recoverStuck(t.ports, STUCK_AFTER, 0),
      recoverStuck(t.ports, STUCK_AFTER, 0),
    ]);
    const again = await recoverStuck(t.ports, STUCK_AFTER, 0);
    // Assess
    expect(counts[0] + counts[1]).toBe(2);
    expect(again).toBe(0);
    expect(t.fanout.sent.map((s) => s.message)).toEqual(
      expect.arrayContaining([
        { kind: 'scheduled', scheduledId: lostQueued.id },
        { kind: 'scheduled', scheduledId: lostSending.id },
      ]),
    );
    expect(t.fanout.sent).toHaveLength(2);
    expect(t.fanout.sent.every((s) => s.delaySeconds === 0)).toBe(true);
    expect((await t.messages.getScheduled(lostSending.id))?.state).toBe('queued');
    expect((await t.messages.getScheduled(pending.id))?.state).toBe('pending');
    expect((await t.messages.getScheduled(fresh.id))?.state).toBe('queued');
  });

  it('after a start, queues every handed-on message again with the delay to its sendAt', async () => {
    // Prepare
    const t = await setup();
    const later = await t.scheduled('queued', 40 * SECOND);
    const sending = await t.scheduled('sending', 0);
    // Act
    const count = await recoverStuck(t.ports, 'all', 60 * SECOND);
    // Assess
    expect(count).toBe(2);
    expect(t.fanout.sent).toEqual(
      expect.arrayContaining([
        { message: { kind: 'scheduled', scheduledId: later.id }, delaySeconds: 40 },
        { message: { kind: 'scheduled', scheduledId: sending.id }, delaySeconds: 0 },
      ]),
    );
  });

  it('is run by the scheduler at most every everyMs', async () => {
    // Prepare
    const t = await setup();
    await t.scheduled('queued', 0);
    t.advance(3 * 60 * SECOND);
    const scheduler = createSchedulerHandler({
      schedule: t.ports,
      log: silentLog,
      horizonMs: 0,
      recovery: { store: t.messages, everyMs: 5 * 60 * SECOND },
    });
    // Act: a second message gets stuck 2.5 minutes later, the first one again after 5
    const first = await scheduler();
    await t.scheduled('queued', 0);
    t.advance(150 * SECOND);
    const second = await scheduler();
    t.advance(150 * SECOND);
    const third = await scheduler();
    // Assess
    expect([first.recovered, second.recovered, third.recovered]).toEqual([1, 0, 2]);
  });
});
