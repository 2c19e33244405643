import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Emulator, startDynalite } from '../../../local/emulators';
import { createLocalTables, createTableInput, LOCAL_TABLES } from '../../../local/tables';
import type { Audience } from '../../../src/connections/audience';
import { DynamoConnectionStore } from '../../../src/adapters/dynamodb/connection-store';
import {
  BROADCAST_SHARDS,
  CONNECTION_TTL_SECONDS,
  CONNECTIONS_TABLE,
} from '../../../src/connections/schema';
import type { NewConnection } from '../../../src/connections/store';
import { AppError } from '../../../src/errors/app-error';
import { ManualClock } from './fakes';

const T0 = new Date('2024-06-01T12:00:00.000Z');
const T0_S = Math.floor(T0.getTime() / 1000);

let emulator: Emulator;
let raw: DynamoDBClient;
let doc: DynamoDBDocumentClient;
let tableCount = 0;

beforeAll(async () => {
  emulator = await startDynalite();
  raw = new DynamoDBClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createLocalTables(raw);
  doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
});

afterAll(async () => {
  raw.destroy();
  await emulator.close();
});

/** A fresh connections table, so every test sees only its own records. */
async function freshTable(): Promise<string> {
  const name = `connections-${++tableCount}`;
  await raw.send(new CreateTableCommand(createTableInput(name, CONNECTIONS_TABLE)));
  return name;
}

/** A store on a fresh table, with a manual clock and round-robin broadcast shards. */
async function setup(options: { pageSize?: number } = {}) {
  const tableName = await freshTable();
  const clock = new ManualClock(T0);
  let next = 0;
  const store = new DynamoConnectionStore({
    client: doc,
    tableName,
    clock,
    pickShard: () => next++ % BROADCAST_SHARDS,
    ...options,
  });
  return { store, clock, tableName };
}

const newConnection = (
  connectionId: string,
  userId: string,
  extra: Partial<NewConnection> = {},
): NewConnection => ({
  connectionId,
  userId,
  roles: ['client'],
  allowedGroups: ['*'],
  connectedAt: T0.toISOString(),
  ...extra,
});

/** Every id an audience yields, sorted, and the pages they came in. */
async function collect(store: DynamoConnectionStore, audience: Audience) {
  const pages: (readonly string[])[] = [];
  for await (const page of store.recipients(audience)) pages.push(page);
  return { ids: pages.flat().sort(), pages };
}

const idsOf = async (store: DynamoConnectionStore, audience: Audience) =>
  (await collect(store, audience)).ids;

/** Every item of a table whose partition belongs to the connection. */
async function itemsOf(tableName: string, connectionId: string) {
  const out = await raw.send(new ScanCommand({ TableName: tableName }));
  return (out.Items ?? []).filter((i) => i.pk?.S === `C#${connectionId}`);
}

async function expectNotFound(attempt: Promise<unknown>) {
  const error: unknown = await attempt.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'not_found', message: 'connection is gone' });
}

describe('DynamoConnectionStore: add and get', () => {
  it('works on the local connections table that createLocalTables makes', async () => {
    // Prepare
    const store = new DynamoConnectionStore({
      client: doc,
      tableName: LOCAL_TABLES.connections,
      clock: new ManualClock(T0),
    });

    // Act
    await store.add(newConnection('local-1', 'alice'));

    // Assess
    expect(await store.get('local-1')).toMatchObject({ connectionId: 'local-1', userId: 'alice' });
  });

  it('records a new connection and reads it back', async () => {
    // Prepare
    const { store } = await setup();
    const input = newConnection('c1', 'alice', {
      roles: ['worker', 'admin'],
      allowedGroups: ['ops', 'dev'],
    });

    // Act
    const added = await store.add(input);
    const read = await store.get('c1');

    // Assess
    const expected = {
      connectionId: 'c1',
      userId: 'alice',
      roles: ['worker', 'admin'],
      allowedGroups: ['ops', 'dev'],
      groups: [],
      connectedAt: T0.toISOString(),
      expiresAt: T0_S + CONNECTION_TTL_SECONDS,
    };
    expect(added).toEqual(expected);
    expect(read).toEqual(expected);
    expect(read).not.toHaveProperty('clientType');
  });

  it('answers undefined for an unknown connection', async () => {
    // Prepare
    const { store } = await setup();

    // Act
    const read = await store.get('nope');

    // Assess
    expect(read).toBeUndefined();
  });

  it('overwrites the record on a repeated add', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));

    // Act
    await store.add(newConnection('c1', 'alice', { roles: ['admin'] }));

    // Assess
    expect((await store.get('c1'))?.roles).toEqual(['admin']);
    expect(await idsOf(store, { kind: 'user', userId: 'alice' })).toEqual(['c1']);
  });
});

describe('DynamoConnectionStore: register, join and leave', () => {
  it('registers a clientType and groups, sorted', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));

    // Act
    const registered = await store.register('c1', 'viewer', ['ops', 'dev']);

    // Assess
    expect(registered).toMatchObject({ clientType: 'viewer', groups: ['dev', 'ops'] });
    expect(await store.get('c1')).toMatchObject({ clientType: 'viewer', groups: ['dev', 'ops'] });
    expect(await idsOf(store, { kind: 'group', group: 'ops' })).toEqual(['c1']);
    expect(await idsOf(store, { kind: 'group', group: 'dev' })).toEqual(['c1']);
  });

  it('keeps earlier groups when registering again, with or without groups', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.register('c1', 'viewer', ['ops']);

    // Act
    const again = await store.register('c1', 'logic', []);
    const more = await store.register('c1', 'logic', ['dev', 'ops']);

    // Assess
    expect(again).toMatchObject({ clientType: 'logic', groups: ['ops'] });
    expect(more).toMatchObject({ clientType: 'logic', groups: ['dev', 'ops'] });
  });

  it('joins and leaves groups', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));

    // Act
    const joined = await store.join('c1', 'ops');
    const joinedTwice = await store.join('c1', 'ops');
    await store.join('c1', 'dev');
    const left = await store.leave('c1', 'ops');

    // Assess
    expect(joined.groups).toEqual(['ops']);
    expect(joinedTwice.groups).toEqual(['ops']);
    expect(left.groups).toEqual(['dev']);
    expect(await idsOf(store, { kind: 'group', group: 'ops' })).toEqual([]);
    expect(await idsOf(store, { kind: 'group', group: 'dev' })).toEqual(['c1']);
  });

  it('leaves the last group', async () => {
    // Prepare
    const { store, tableName } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.join('c1', 'ops');

    // Act
    const left = await store.leave('c1', 'ops');

    // Assess
    expect(left.groups).toEqual([]);
    expect((await store.get('c1'))?.groups).toEqual([]);
    expect(await itemsOf(tableName, 'c1')).toHaveLength(1);
  });

  it('treats leaving a group that was never joined as a no-op', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.join('c1', 'dev');
    await store.add(newConnection('c2', 'bob'));

    // Act
    const left = await store.leave('c1', 'ops');
    const leftNone = await store.leave('c2', 'ops');

    // Assess
    expect(left.groups).toEqual(['dev']);
    expect(leftNone.groups).toEqual([]);
  });

  it.each<[string, (s: DynamoConnectionStore) => Promise<unknown>]>([
    ['join', (s) => s.join('ghost', 'ops')],
    ['register', (s) => s.register('ghost', 'viewer', [])],
    ['register with groups', (s) => s.register('ghost', 'viewer', ['ops'])],
    ['leave', (s) => s.leave('ghost', 'ops')],
  ])('answers not_found to %s on a missing connection and writes nothing', async (_op, act) => {
    // Prepare
    const { store, tableName } = await setup();

    // Act
    const attempt = act(store);

    // Assess
    await expectNotFound(attempt);
    expect(await itemsOf(tableName, 'ghost')).toEqual([]);
    expect(await idsOf(store, { kind: 'group', group: 'ops' })).toEqual([]);
  });

  it('answers not_found to join after the connection was removed', async () => {
    // Prepare
    const { store, tableName } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.remove('c1');

    // Act
    const attempt = store.join('c1', 'ops');

    // Assess
    await expectNotFound(attempt);
    expect(await itemsOf(tableName, 'c1')).toEqual([]);
  });
});

describe('DynamoConnectionStore: recipients', () => {
  /** u1: c1 viewer [ops], c2 http [ops, dev]; u2: c3 viewer [dev], c4 unregistered. */
  async function population() {
    const ctx = await setup();
    const { store } = ctx;
    await store.add(newConnection('c1', 'u1'));
    await store.add(newConnection('c2', 'u1'));
    await store.add(newConnection('c3', 'u2'));
    await store.add(newConnection('c4', 'u2'));
    await store.register('c1', 'viewer', ['ops']);
    await store.register('c2', 'http', ['ops', 'dev']);
    await store.register('c3', 'viewer', []);
    await store.join('c3', 'dev');
    return ctx;
  }

  it.each<[string, Audience, string[]]>([
    ['a user', { kind: 'user', userId: 'u1' }, ['c1', 'c2']],
    ['another user', { kind: 'user', userId: 'u2' }, ['c3', 'c4']],
    ['an unknown user', { kind: 'user', userId: 'u3' }, []],
    ['a group', { kind: 'group', group: 'ops' }, ['c1', 'c2']],
    ['another group', { kind: 'group', group: 'dev' }, ['c2', 'c3']],
    ['an unknown group', { kind: 'group', group: 'qa' }, []],
    ['a clientType', { kind: 'clientType', clientType: 'viewer' }, ['c1', 'c3']],
    ['the observers', { kind: 'clientType', clientType: 'http' }, ['c2']],
    ['an unused clientType', { kind: 'clientType', clientType: 'logic' }, []],
    ['everyone', { kind: 'all' }, ['c1', 'c2', 'c3', 'c4']],
    ['one connection', { kind: 'connection', connectionId: 'c3' }, ['c3']],
    ['an unknown connection', { kind: 'connection', connectionId: 'c9' }, []],
  ])('yields exactly the connections of %s', async (_what, audience, expected) => {
    // Prepare
    const { store } = await population();

    // Act
    const { ids, pages } = await collect(store, audience);

    // Assess
    expect(ids).toEqual(expected);
    expect(pages.every((p) => p.length > 0)).toBe(true);
  });

  it('follows a leave: the member is no longer a recipient of the group', async () => {
    // Prepare
    const { store } = await population();

    // Act
    await store.leave('c2', 'ops');

    // Assess
    expect(await idsOf(store, { kind: 'group', group: 'ops' })).toEqual(['c1']);
    expect(await idsOf(store, { kind: 'group', group: 'dev' })).toEqual(['c2', 'c3']);
  });

  it('lists a user with clientType and connectedAt', async () => {
    // Prepare
    const { store } = await population();

    // Act
    const listed = await store.listUser('u2');

    // Assess
    expect([...listed].sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual([
      { connectionId: 'c3', clientType: 'viewer', connectedAt: T0.toISOString() },
      { connectionId: 'c4', connectedAt: T0.toISOString() },
    ]);
  });

  it('counts connections by clientType, with "unregistered" for those without one', async () => {
    // Prepare
    const { store } = await population();

    // Act
    const counts = await store.countByClientType();

    // Assess
    expect(counts).toEqual({ viewer: 2, http: 1, unregistered: 1 });
  });

  it('counts nothing on an empty table', async () => {
    // Prepare
    const { store } = await setup();

    // Act
    const counts = await store.countByClientType();

    // Assess
    expect(counts).toEqual({});
  });
});

describe('DynamoConnectionStore: expiry', () => {
  it('skips records past expiresAt everywhere, before DynamoDB TTL deletes them', async () => {
    // Prepare
    const { store, clock, tableName } = await setup();
    await store.add(newConnection('old', 'u1'));
    await store.register('old', 'viewer', ['ops']);
    clock.advanceSeconds(CONNECTION_TTL_SECONDS - 1);
    const liveBefore = await store.get('old');

    // Act
    clock.advanceSeconds(1);

    // Assess
    expect(liveBefore).toBeDefined();
    expect(await store.get('old')).toBeUndefined();
    for (const audience of [
      { kind: 'user', userId: 'u1' },
      { kind: 'group', group: 'ops' },
      { kind: 'clientType', clientType: 'viewer' },
      { kind: 'all' },
      { kind: 'connection', connectionId: 'old' },
    ] satisfies Audience[]) {
      expect(await collect(store, audience)).toEqual({ ids: [], pages: [] });
    }
    expect(await store.listUser('u1')).toEqual([]);
    expect(await store.countByClientType()).toEqual({});
    expect(await itemsOf(tableName, 'old')).toHaveLength(2);
  });

  it('keeps a newer connection of the same user while skipping the expired one', async () => {
    // Prepare
    const { store, clock } = await setup();
    const earlier = new Date(T0.getTime() - (CONNECTION_TTL_SECONDS - 100) * 1000);
    await store.add(newConnection('old', 'u1', { connectedAt: earlier.toISOString() }));
    await store.add(newConnection('new', 'u1'));
    await store.register('old', 'viewer', ['ops']);
    await store.register('new', 'viewer', ['ops']);

    // Act
    clock.advanceSeconds(200);

    // Assess
    expect(await store.get('old')).toBeUndefined();
    expect(await store.get('new')).toBeDefined();
    expect(await idsOf(store, { kind: 'user', userId: 'u1' })).toEqual(['new']);
    expect(await idsOf(store, { kind: 'group', group: 'ops' })).toEqual(['new']);
    expect(await idsOf(store, { kind: 'clientType', clientType: 'viewer' })).toEqual(['new']);
    expect(await idsOf(store, { kind: 'all' })).toEqual(['new']);
    expect((await store.listUser('u1')).map((s) => s.connectionId)).toEqual(['new']);
    expect(await store.countByClientType()).toEqual({ viewer: 1 });
  });
});

describe('DynamoConnectionStore: remove', () => {
  it('deletes the record and all 30 memberships (more than one batch of 25)', async () => {
    // Prepare
    const { store, tableName } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.add(newConnection('keep', 'alice'));
    const groups = Array.from({ length: 30 }, (_, i) => `g${String(i).padStart(2, '0')}`);
    for (const g of groups) await store.join('c1', g);
    await store.join('keep', 'g00');
    expect(await itemsOf(tableName, 'c1')).toHaveLength(31);

    // Act
    const removed = await store.remove('c1');

    // Assess
    expect(removed).toBe(31);
    expect(await itemsOf(tableName, 'c1')).toEqual([]);
    expect(await store.get('c1')).toBeUndefined();
    expect(await idsOf(store, { kind: 'group', group: 'g29' })).toEqual([]);
    expect(await idsOf(store, { kind: 'group', group: 'g00' })).toEqual(['keep']);
    expect(await idsOf(store, { kind: 'user', userId: 'alice' })).toEqual(['keep']);
  });

  it('deletes a connection registered with groups', async () => {
    // Prepare
    const { store, tableName } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.register('c1', 'viewer', ['ops', 'dev']);

    // Act
    const removed = await store.remove('c1');

    // Assess
    expect(removed).toBe(3);
    expect(await itemsOf(tableName, 'c1')).toEqual([]);
    expect(await store.countByClientType()).toEqual({});
  });

  it('retries the deletes DynamoDB hands back as unprocessed', async () => {
    // Prepare
    const tableName = await freshTable();
    const plain = new DynamoConnectionStore({ client: doc, tableName, clock: new ManualClock(T0) });
    await plain.add(newConnection('c1', 'alice'));
    for (let i = 0; i < 12; i++) await plain.join('c1', `g${i}`);
    let throttledOnce = false;
    const batchSizes: number[] = [];
    const flaky = {
      send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        if (command instanceof BatchWriteCommand) {
          const requests = command.input.RequestItems?.[tableName] ?? [];
          batchSizes.push(requests.length);
          if (!throttledOnce) {
            // Like DynamoDB under load: do half, hand the rest back.
            throttledOnce = true;
            const half = Math.ceil(requests.length / 2);
            await doc.send(
              new BatchWriteCommand({ RequestItems: { [tableName]: requests.slice(0, half) } }),
            );
            return { UnprocessedItems: { [tableName]: requests.slice(half) }, $metadata: {} };
          }
        }
        return doc.send(command as BatchWriteCommand);
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new DynamoConnectionStore({
      client: flaky,
      tableName,
      clock: new ManualClock(T0),
    });

    // Act
    const removed = await store.remove('c1');

    // Assess
    expect(removed).toBe(13);
    expect(batchSizes).toEqual([13, 6]);
    expect(await itemsOf(tableName, 'c1')).toEqual([]);
  });

  it('leaves a connection still within its $connect grace alone, and deletes it after', async () => {
    // Prepare: a record that opened just now (a 410 for it may only mean "not connected yet")
    const { store, clock } = await setup();
    await store.add({ ...newConnection('c1', 'alice'), connectedAt: T0.toISOString() });
    clock.advanceSeconds(5);

    // Act
    const early = await store.remove('c1', { unlessConnectedWithinSeconds: 30 });
    const kept = await store.get('c1');
    clock.advanceSeconds(30);
    const late = await store.remove('c1', { unlessConnectedWithinSeconds: 30 });

    // Assess
    expect(early).toBe(0);
    expect(kept?.connectionId).toBe('c1');
    expect(late).toBe(1);
    expect(await store.get('c1')).toBeUndefined();
  });

  it('deletes a registered connection at once, however young (its $connect has returned)', async () => {
    // Prepare: a record that opened just now and has registered since
    const { store, clock } = await setup();
    await store.add({ ...newConnection('c1', 'alice'), connectedAt: T0.toISOString() });
    await store.register('c1', 'viewer', []);
    clock.advanceSeconds(1);

    // Act
    const removed = await store.remove('c1', { unlessConnectedWithinSeconds: 30 });

    // Assess
    expect(removed).toBeGreaterThan(0);
    expect(await store.get('c1')).toBeUndefined();
  });

  it('answers 0 for an unknown connection and is safe to repeat', async () => {
    // Prepare
    const { store } = await setup();
    await store.add(newConnection('c1', 'alice'));
    await store.remove('c1');

    // Act
    const again = await store.remove('c1');
    const unknown = await store.remove('never');

    // Assess
    expect(again).toBe(0);
    expect(unknown).toBe(0);
  });
});

describe('DynamoConnectionStore: paging', () => {
  it('yields all 7 connections of a user across pages of 2', async () => {
    // Prepare
    const { store } = await setup({ pageSize: 2 });
    const ids = Array.from({ length: 7 }, (_, i) => `p${i}`);
    for (const id of ids) await store.add(newConnection(id, 'pager'));

    // Act
    const { ids: got, pages } = await collect(store, { kind: 'user', userId: 'pager' });

    // Assess
    expect(got).toEqual(ids);
    expect(pages.length).toBeGreaterThanOrEqual(4);
    expect(pages.every((p) => p.length > 0 && p.length <= 2)).toBe(true);
  });

  it('pages groups, clientTypes, broadcast, presence and counts too', async () => {
    // Prepare
    const { store } = await setup({ pageSize: 2 });
    const ids = Array.from({ length: 7 }, (_, i) => `p${i}`);
    for (const id of ids) {
      await store.add(newConnection(id, 'pager'));
      await store.register(id, 'viewer', ['big']);
    }

    // Act
    const group = await idsOf(store, { kind: 'group', group: 'big' });
    const type = await idsOf(store, { kind: 'clientType', clientType: 'viewer' });
    const all = await idsOf(store, { kind: 'all' });
    const listed = await store.listUser('pager');
    const counts = await store.countByClientType();

    // Assess
    expect(group).toEqual(ids);
    expect(type).toEqual(ids);
    expect(all).toEqual(ids);
    expect(listed.map((s) => s.connectionId).sort()).toEqual(ids);
    expect(counts).toEqual({ viewer: 7 });
  });

  it('keeps paging past pages that the expiry filter empties', async () => {
    // Prepare
    const { store, clock } = await setup({ pageSize: 2 });
    const earlier = new Date(T0.getTime() - (CONNECTION_TTL_SECONDS - 100) * 1000);
    for (const id of ['a0', 'a1', 'a2', 'a3']) {
      await store.add(newConnection(id, 'mixed', { connectedAt: earlier.toISOString() }));
    }
    for (const id of ['z0', 'z1']) await store.add(newConnection(id, 'mixed'));
    clock.advanceSeconds(200);

    // Act
    const { ids, pages } = await collect(store, { kind: 'user', userId: 'mixed' });

    // Assess
    expect(ids).toEqual(['z0', 'z1']);
    expect(pages.every((p) => p.length > 0)).toBe(true);
  });
});
