import type { Audience } from '../../../src/connections/audience';
import {
  ALL_STREAM,
  EPOCH_PATTERN,
  epochBelongsTo,
  isStreamName,
  newEpoch,
  streamOf,
  streamsOfConnection,
} from '../../../src/streams/names';

describe('streamOf', () => {
  it.each<[Audience, string]>([
    [{ kind: 'user', userId: 'alice@example.com' }, 'user:alice@example.com'],
    [{ kind: 'group', group: 'ops' }, 'group:ops'],
    [{ kind: 'clientType', clientType: 'http' }, 'type:http'],
    [{ kind: 'all' }, 'all'],
  ])('names the stream of %j %s', (audience, expected) => {
    // Prepare (nothing)

    // Act
    const stream = streamOf(audience);

    // Assess
    expect(stream).toBe(expected);
    expect(isStreamName(expected)).toBe(true);
  });

  it('puts a frame to a single connection in no stream', () => {
    // Prepare
    const audience: Audience = { kind: 'connection', connectionId: 'c1' };

    // Act
    const stream = streamOf(audience);

    // Assess
    expect(stream).toBeUndefined();
  });
});

describe('isStreamName', () => {
  it.each([
    'all',
    'user:alice',
    'user:a:b',
    'user:alice@example.com',
    `user:${'u'.repeat(128)}`,
    'group:ops',
    'group:team.a-1:x',
    `group:${'g'.repeat(64)}`,
    'type:http',
    'type:viewer_2',
  ])('accepts %s', (name) => {
    // Prepare (nothing)

    // Act
    const ok = isStreamName(name);

    // Assess
    expect(ok).toBe(true);
  });

  it.each([
    ['an unknown prefix', 'users:x'],
    ['an unknown prefix', 'grp:ops'],
    ['an empty user', 'user:'],
    ['an empty group', 'group:'],
    ['an empty type', 'type:'],
    ['a # in a group', 'group:a#b'],
    ['a space in a user', 'user:a b'],
    ['an upper-case type', 'type:UPPER'],
    ['a type starting with a digit', 'type:1x'],
    ['all with a suffix', 'all2'],
    ['all with a colon', 'all:'],
    ['upper-case all', 'ALL'],
    ['the empty string', ''],
    ['no prefix', 'alice'],
    ['a user id over 128 characters', `user:${'u'.repeat(129)}`],
    ['a group over 64 characters', `group:${'g'.repeat(65)}`],
    ['a type over 32 characters', `type:${'t'.repeat(33)}`],
    ['a very long name', `user:${'x'.repeat(10_000)}`],
  ])('rejects %s (%s)', (_why, name) => {
    // Prepare (nothing)

    // Act
    const ok = isStreamName(name);

    // Assess
    expect(ok).toBe(false);
  });
});

describe('streamsOfConnection', () => {
  it("lists the user's, the client type's, every group's and the broadcast stream", () => {
    // Prepare
    const conn = { userId: 'alice', clientType: 'viewer', groups: ['ops', 'dev'] };

    // Act
    const streams = streamsOfConnection(conn);

    // Assess
    expect(streams).toEqual(['user:alice', 'type:viewer', 'group:ops', 'group:dev', ALL_STREAM]);
    expect(streams.every(isStreamName)).toBe(true);
  });

  it('leaves the type stream out before the connection registered a client type', () => {
    // Prepare
    const conn = { userId: 'alice', groups: [] };

    // Act
    const streams = streamsOfConnection(conn);

    // Assess
    expect(streams).toEqual(['user:alice', 'all']);
  });
});

/** The tag of the broadcast stream's epochs. */
const TAG = newEpoch('all').split('.')[0] ?? '';

describe('epochs', () => {
  it('makes a new epoch per call, tagged with its stream', () => {
    // Prepare
    const stream = 'user:alice';

    // Act
    const a = newEpoch(stream);
    const b = newEpoch(stream);

    // Assess
    expect(a).not.toBe(b);
    expect(a).toMatch(EPOCH_PATTERN);
    expect(epochBelongsTo(a, stream)).toBe(true);
    expect(epochBelongsTo(b, stream)).toBe(true);
    expect(a.split('.')[0]).toBe(b.split('.')[0]);
  });

  it('uses the injected randomness for the nonce', () => {
    // Prepare
    const random = () => Buffer.from([1, 2, 3]);

    // Act
    const epoch = newEpoch('group:ops', random);

    // Assess
    expect(epoch.endsWith('.AQID')).toBe(true);
    expect(epochBelongsTo(epoch, 'group:ops')).toBe(true);
  });

  it("tells an epoch of another stream from one of this stream's", () => {
    // Prepare
    const alices = newEpoch('user:alice');

    // Act
    const forBob = epochBelongsTo(alices, 'user:bob');
    const forAlicesGroup = epochBelongsTo(alices, 'group:alice');

    // Assess
    expect(forBob).toBe(false);
    expect(forAlicesGroup).toBe(false);
    expect(epochBelongsTo(alices, 'user:alice')).toBe(true);
  });

  it.each([
    ['the empty string', ''],
    ['no dot', 'abcdefgh'],
    ['an empty nonce', `${TAG}.`],
    ['a nonce over 32 characters', `${TAG}.${'n'.repeat(33)}`],
    ['a bad character in the nonce', `${TAG}.a+b`],
    ['a short tag', 'abc.0'],
  ])('rejects a malformed epoch: %s', (_why, epoch) => {
    // Prepare (nothing)

    // Act
    const ok = epochBelongsTo(epoch, 'all');

    // Assess
    expect(ok).toBe(false);
  });
});
