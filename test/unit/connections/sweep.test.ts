import { CONNECTION_TTL_SECONDS, STALE_AFTER_SECONDS } from '../../../src/connections/schema';
import { sweepConnections } from '../../../src/connections/sweep';
import { silentLog } from '../../../src/ports/log';
import type { ConnectionStore, StaleRecord } from '../../../src/connections/store';
import { dynamoFixture, newConnection, T0 } from './stale-fixture';

const fixture = dynamoFixture();

/** A GetConnection stand-in that answers 410 for `gone` and counts every call. */
function gateway(gone: ReadonlySet<string>) {
  const calls: string[] = [];
  return {
    calls,
    isGone: async (id: string) => {
      calls.push(id);
      return gone.has(id);
    },
  };
}

describe('sweepConnections', () => {
  it('checks only the stale records, removes the gone ones and refreshes the silent ones', async () => {
    // Prepare: 200 connections; 30 go quiet (20 of them dropped without a $disconnect).
    const { store, clock } = await fixture.store({ pageSize: 7 });
    const ids = Array.from({ length: 200 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    for (const id of ids) await store.add(newConnection(id, `u${id}`));
    for (const id of ids) await store.register(id, 'viewer', []);
    const quiet = ids.slice(0, 30);
    const dropped = new Set(quiet.slice(0, 20));
    clock.advanceSeconds(STALE_AFTER_SECONDS - 30);
    for (const id of ids.slice(30)) await store.touch(id);
    clock.advanceSeconds(60);
    const api = gateway(dropped);

    // Act
    const report = await sweepConnections({
      store,
      isGone: api.isGone,
      log: silentLog,
      checksPerSecond: 0,
    });
    const again = gateway(dropped);
    const second = await sweepConnections({ store, isGone: again.isGone, log: silentLog });

    // Assess
    expect(api.calls.sort()).toEqual(quiet);
    expect(report).toEqual({ checked: 30, probed: 30, removed: 20, alive: 10, errors: 0 });
    expect(second).toEqual({ checked: 0, probed: 0, removed: 0, alive: 0, errors: 0 });
    expect(again.calls).toEqual([]);
    expect(await store.countByClientType()).toEqual({ viewer: 180 });
    expect(await store.get('c000')).toBeUndefined();
    expect(await store.get('c025')).toBeDefined();
  });

  it('makes no GetConnection call at all when nothing is stale', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    for (let i = 0; i < 50; i++) await store.add(newConnection(`c${i}`, 'u'));
    clock.advanceSeconds(STALE_AFTER_SECONDS - 1);
    const api = gateway(new Set());

    // Act
    const report = await sweepConnections({ store, isGone: api.isGone, log: silentLog });

    // Assess
    expect(api.calls).toEqual([]);
    expect(report.checked).toBe(0);
    expect(await store.countByClientType()).toEqual({ unregistered: 50 });
  });

  it('removes expired records without asking GetConnection', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    const early = new Date(T0.getTime() - (CONNECTION_TTL_SECONDS - 5) * 1000);
    await store.add(newConnection('old', 'u', early));
    await store.add(newConnection('new', 'u'));
    clock.advanceSeconds(10);
    const api = gateway(new Set());

    // Act
    const report = await sweepConnections({ store, isGone: api.isGone, log: silentLog });

    // Assess
    expect(api.calls).toEqual([]);
    expect(report).toMatchObject({ checked: 1, probed: 0, removed: 1 });
    expect(await store.listUser('u')).toEqual([expect.objectContaining({ connectionId: 'new' })]);
  });

  it('counts a failed check as an error, keeps the record and goes on', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    await store.add(newConnection('a', 'u'));
    await store.add(newConnection('b', 'u'));
    clock.advanceSeconds(STALE_AFTER_SECONDS + 1);
    const warnings: string[] = [];
    const log = { ...silentLog, warn: (message: string) => void warnings.push(message) };

    // Act
    const report = await sweepConnections({
      store,
      log,
      isGone: async (id) => {
        if (id === 'a') throw new Error('throttled: LimitExceededException');
        return true;
      },
    });

    // Assess
    expect(report).toMatchObject({ checked: 2, removed: 1, errors: 1 });
    expect(warnings).toEqual(['sweep could not check a connection']);
    expect(await store.get('a')).toBeDefined();
    expect(await store.get('b')).toBeUndefined();
  });
  it('walks again when a walk missed a stale record, and removes it in the same run', async () => {
    // Prepare: the first walk's Query misses 'b' (as when it goes stale during the walk)
    const { store, clock } = await fixture.store();
    await store.add(newConnection('a', 'u'));
    await store.add(newConnection('b', 'u'));
    clock.advanceSeconds(STALE_AFTER_SECONDS + 1);
    let walks = 0;
    const missing: ConnectionStore = Object.assign(Object.create(store) as ConnectionStore, {
      staleRecords: (o?: { withinSeconds?: number }) => {
        const walk = ++walks;
        const all = store.staleRecords(o);
        return (async function* () {
          for await (const page of all) {
            yield walk === 1 ? page.filter((r: StaleRecord) => r.connectionId !== 'b') : page;
          }
        })();
      },
    });
    const api = gateway(new Set(['a', 'b']));

    // Act
    const report = await sweepConnections({ store: missing, isGone: api.isGone, log: silentLog });

    // Assess: walk 2 found 'b', walk 3 found nothing
    expect(report).toEqual({ checked: 2, probed: 2, removed: 2, alive: 0, errors: 0 });
    expect(api.calls).toEqual(['a', 'b']);
    expect(walks).toBe(3);
    expect(await store.get('b')).toBeUndefined();
  });

  it('stops after three walks, however many records keep going stale', async () => {
    // Prepare: every walk meets one more stale record
    const { store } = await fixture.store();
    let walks = 0;
    const endless: ConnectionStore = Object.assign(Object.create(store) as ConnectionStore, {
      staleRecords: () => {
        const id = `late-${++walks}`;
        return (async function* () {
          yield [{ connectionId: id, expired: false }];
        })();
      },
      remove: async () => true,
    });
    const api = gateway(new Set(['late-1', 'late-2', 'late-3', 'late-4']));

    // Act
    const report = await sweepConnections({ store: endless, isGone: api.isGone, log: silentLog });

    // Assess
    expect(walks).toBe(3);
    expect(report).toMatchObject({ checked: 3, removed: 3 });
  });

  it('does not check a failed record again in the same run', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    await store.add(newConnection('a', 'u'));
    clock.advanceSeconds(STALE_AFTER_SECONDS + 1);
    const calls: string[] = [];

    // Act
    const report = await sweepConnections({
      store,
      log: silentLog,
      isGone: async (id) => {
        calls.push(id);
        throw new Error('socket hang up');
      },
    });

    // Assess: one call; the record stays for the next run
    expect(calls).toEqual(['a']);
    expect(report).toEqual({ checked: 1, probed: 1, removed: 0, alive: 0, errors: 1 });
    expect(await store.get('a')).toBeDefined();
  });
});
