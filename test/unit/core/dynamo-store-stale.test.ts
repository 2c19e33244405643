import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LAST_SEEN_REFRESH_SECONDS, STALE_AFTER_SECONDS } from '../../../src/connections/schema';
import { dynamoFixture, newConnection } from '../connections/stale-fixture';

const fixture = dynamoFixture();

async function staleIds(store: Awaited<ReturnType<typeof fixture.store>>['store']) {
  const ids: string[] = [];
  for await (const page of store.staleRecords()) ids.push(...page.map((r) => r.connectionId));
  return ids.sort();
}

describe('DynamoConnectionStore: last-seen deadline', () => {
  it('never counts a record past its deadline in stats or presence', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    await store.add(newConnection('quiet', 'u1'));
    await store.add(newConnection('chatty', 'u1'));
    await store.register('quiet', 'viewer', []);
    await store.register('chatty', 'viewer', []);
    expect(await store.countByClientType()).toEqual({ viewer: 2 });
    expect((await store.listUser('u1')).map((c) => c.connectionId).sort()).toEqual([
      'chatty',
      'quiet',
    ]);

    // Act: only `chatty` is heard from before the deadline passes.
    clock.advanceSeconds(STALE_AFTER_SECONDS - 10);
    await store.touch('chatty');
    clock.advanceSeconds(20);

    // Assess
    expect(await store.countByClientType()).toEqual({ viewer: 1 });
    expect((await store.listUser('u1')).map((c) => c.connectionId)).toEqual(['chatty']);
    expect(await staleIds(store)).toEqual(['quiet']);
    // The record itself is still there (register on it still works) until the sweep decides.
    expect(await store.get('quiet')).toBeDefined();
  });

  it('counts an unregistered stale record nowhere either', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    await store.add(newConnection('c1', 'u2'));

    // Act
    clock.advanceSeconds(STALE_AFTER_SECONDS);

    // Assess
    expect(await store.countByClientType()).toEqual({});
    expect(await store.listUser('u2')).toEqual([]);
    expect(await staleIds(store)).toEqual(['c1']);
  });

  it('writes the last-seen time at most once per refresh interval', async () => {
    // Prepare
    const { store, clock, client } = await fixture.store();
    await store.add(newConnection('c1', 'u1'));
    const send = jest.spyOn(client, 'send');
    const updates = () => send.mock.calls.filter(([c]) => c instanceof UpdateCommand).length;

    // Act
    const early = await Promise.all(Array.from({ length: 20 }, () => store.touch('c1')));
    clock.advanceSeconds(LAST_SEEN_REFRESH_SECONDS);
    const later = await Promise.all(Array.from({ length: 20 }, () => store.touch('c1')));
    const forced = await store.touch('c1', { force: true });

    // Assess
    expect(early.filter(Boolean)).toHaveLength(0);
    expect(later.filter(Boolean)).toHaveLength(1);
    expect(forced).toBe(true);
    expect(updates()).toBe(2);
    send.mockRestore();
  });

  it('does not bring a removed connection back when it is touched', async () => {
    // Prepare
    const { store } = await fixture.store();
    await store.add(newConnection('c1', 'u1'));
    await store.remove('c1');

    // Act
    const wrote = await store.touch('c1', { force: true });

    // Assess
    expect(wrote).toBe(false);
    expect(await store.get('c1')).toBeUndefined();
    expect(await staleIds(store)).toEqual([]);
  });

  it('lists as stale the records past their deadline and, on request, those due soon', async () => {
    // Prepare
    const { store, clock } = await fixture.store();
    await store.add(newConnection('a', 'u1'));
    clock.advanceSeconds(100);
    await store.touch('a');
    await store.add(newConnection('b', 'u1', clock.now()));

    // Act
    clock.advanceSeconds(STALE_AFTER_SECONDS - 50);
    const now: string[] = await staleIds(store);
    const soon: string[] = [];
    for await (const page of store.staleRecords({ withinSeconds: 100 })) {
      soon.push(...page.map((r) => r.connectionId));
    }

    // Assess
    expect(now).toEqual([]);
    expect(soon.sort()).toEqual(['a', 'b']);
  });
});
