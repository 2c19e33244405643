import fc from 'fast-check';
import { AppError, type ErrorCode } from '../../../src/errors/app-error';
import {
  CLIENT_TYPE_PATTERN,
  GROUP_PATTERN,
  MAX_GROUPS_PER_CONNECTION,
} from '../../../src/names/names';
import {
  CLIENT_ACTIONS,
  MAX_CLIENT_FRAME_BYTES,
  parseClientFrame,
  type ParsedClientFrame,
} from '../../../src/ws/client-frames';

/** The codes a client frame may be refused with before any session logic runs. */
const FRAME_ERROR_CODES: readonly ErrorCode[] = ['bad_request', 'unknown_action', 'too_large'];

const groups = (n: number) => Array.from({ length: n }, (_, i) => `g${i}`);

/** Narrows a result to its error branch, failing the test with the frame when it was accepted. */
function errorOf(result: ParsedClientFrame): { error: AppError; requestId?: string } {
  if (result.ok) throw new Error(`expected an error, got frame ${JSON.stringify(result.frame)}`);
  return result;
}

describe('parseClientFrame: valid frames', () => {
  it.each<[string, Record<string, unknown>]>([
    ['register with a clientType', { action: 'register', clientType: 'viewer' }],
    [
      'register with groups and a requestId',
      { action: 'register', clientType: 'logic', groups: ['ops', 'dev.team'], requestId: 'r-1' },
    ],
    ['register with no groups', { action: 'register', clientType: 'http', groups: [] }],
    [
      `register with ${MAX_GROUPS_PER_CONNECTION} groups`,
      { action: 'register', clientType: 'viewer', groups: groups(MAX_GROUPS_PER_CONNECTION) },
    ],
    [
      'register with a 32-character clientType',
      { action: 'register', clientType: `a${'b'.repeat(31)}` },
    ],
    ['join', { action: 'join', group: 'ops' }],
    ['join with a 64-character group', { action: 'join', group: 'g'.repeat(64) }],
    ['join with every allowed group character', { action: 'join', group: 'Az09_.:-' }],
    ['leave with a requestId', { action: 'leave', group: 'ops', requestId: 'x' }],
    ['ping', { action: 'ping' }],
    ['ping with a 128-character requestId', { action: 'ping', requestId: 'r'.repeat(128) }],
  ])('accepts %s', (_what, frame) => {
    // Prepare
    const body = JSON.stringify(frame);

    // Act
    const result = parseClientFrame(body);

    // Assess
    expect(result).toEqual({ ok: true, frame });
  });

  it('accepts a frame padded with whitespace up to exactly the byte cap', () => {
    // Prepare
    const core = '{"action":"ping"}';
    const body = core + ' '.repeat(MAX_CLIENT_FRAME_BYTES - core.length);

    // Act
    const result = parseClientFrame(body);

    // Assess
    expect(Buffer.byteLength(body)).toBe(MAX_CLIENT_FRAME_BYTES);
    expect(result).toEqual({ ok: true, frame: { action: 'ping' } });
  });
});

describe('parseClientFrame: invalid fields', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['register without clientType', { action: 'register' }, /^clientType: /],
    ['register with a numeric clientType', { action: 'register', clientType: 7 }, /^clientType: /],
    [
      'register with an upper-case clientType',
      { action: 'register', clientType: 'Viewer' },
      /^clientType: .*lower-case letter first/,
    ],
    [
      'register with a clientType starting with a digit',
      { action: 'register', clientType: '1x' },
      /^clientType: /,
    ],
    [
      'register with a 33-character clientType',
      { action: 'register', clientType: 'a'.repeat(33) },
      /^clientType: .*1-32 characters/,
    ],
    ['register with an empty clientType', { action: 'register', clientType: '' }, /^clientType: /],
    [
      'register with groups that are not an array',
      { action: 'register', clientType: 'viewer', groups: 'ops' },
      /^groups: /,
    ],
    [
      'register with groups set to null',
      { action: 'register', clientType: 'viewer', groups: null },
      /^groups: /,
    ],
    [
      'register with a bad group name',
      { action: 'register', clientType: 'viewer', groups: ['ok', 'a#b'] },
      /^groups\.1: .*1-64 characters/,
    ],
    [
      `register with ${MAX_GROUPS_PER_CONNECTION + 1} groups`,
      {
        action: 'register',
        clientType: 'viewer',
        groups: groups(MAX_GROUPS_PER_CONNECTION + 1),
      },
      /^groups: /,
    ],
    ['join without group', { action: 'join' }, /^group: /],
    ['join with a numeric group', { action: 'join', group: 42 }, /^group: /],
    ['join with an empty group', { action: 'join', group: '' }, /^group: /],
    ['join with a 65-character group', { action: 'join', group: 'g'.repeat(65) }, /^group: /],
    ['join with a slash in the group', { action: 'join', group: 'a/b' }, /^group: /],
    ['join with a space in the group', { action: 'join', group: 'a b' }, /^group: /],
    ['join with a list of groups', { action: 'join', group: ['ops'] }, /^group: /],
    ['leave without group', { action: 'leave' }, /^group: /],
    ['leave with a "#" in the group', { action: 'leave', group: 'G#x' }, /^group: /],
    ['ping with an unknown field', { action: 'ping', extra: true }, /Unrecognized key.*"extra"/],
    [
      'join with an unknown field',
      { action: 'join', group: 'ops', groups: ['ops'] },
      /Unrecognized key.*"groups"/,
    ],
    ['ping with an empty requestId', { action: 'ping', requestId: '' }, /^requestId: /],
    ['ping with a numeric requestId', { action: 'ping', requestId: 7 }, /^requestId: /],
    [
      'ping with a 129-character requestId',
      { action: 'ping', requestId: 'r'.repeat(129) },
      /^requestId: /,
    ],
  ])('refuses %s with bad_request naming the field', (_what, frame, message) => {
    // Prepare
    const body = JSON.stringify(frame);

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe('bad_request');
    expect(error.message).toMatch(message);
  });

  it('refuses a frame without action with bad_request', () => {
    // Prepare
    const body = JSON.stringify({ clientType: 'viewer' });

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(error.code).toBe('bad_request');
    expect(error.message).toBe('missing "action"');
  });

  it.each<[string, unknown]>([
    ['an unknown word', 'dance'],
    ['the wrong case', 'PING'],
    ['an empty string', ''],
    ['a number', 42],
    ['null', null],
    ['an inherited property name', 'toString'],
    ['constructor', 'constructor'],
    ['__proto__', '__proto__'],
    ['hasOwnProperty', 'hasOwnProperty'],
  ])('refuses action %s with unknown_action listing the actions', (_what, action) => {
    // Prepare
    const body = JSON.stringify({ action });

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(error.code).toBe('unknown_action');
    expect(error.message).toBe(`unknown action; use one of: ${CLIENT_ACTIONS.join(', ')}`);
    for (const a of ['register', 'join', 'leave', 'ping']) expect(error.message).toContain(a);
  });
});

describe('parseClientFrame: messages that are not a JSON object', () => {
  it.each<[string, string | null | undefined, string]>([
    ['null', null, 'empty message: send a JSON object'],
    ['undefined', undefined, 'empty message: send a JSON object'],
    ['an empty string', '', 'empty message: send a JSON object'],
    ['whitespace', '  \n ', 'message is not valid JSON'],
    ['broken JSON', '{nope', 'message is not valid JSON'],
    ['JSON with a trailing comma', '{"action":"ping",}', 'message is not valid JSON'],
    ['plain text', 'ping', 'message is not valid JSON'],
    ['JSON null', 'null', 'message must be a JSON object'],
    ['a JSON array', '[{"action":"ping"}]', 'message must be a JSON object'],
    ['an empty array', '[]', 'message must be a JSON object'],
    ['a number', '42', 'message must be a JSON object'],
    ['a JSON string', '"ping"', 'message must be a JSON object'],
    ['a boolean', 'true', 'message must be a JSON object'],
  ])('refuses %s with bad_request', (_what, body, message) => {
    // Prepare / Act
    const result = errorOf(parseClientFrame(body));

    // Assess
    expect(result.error).toBeInstanceOf(AppError);
    expect(result.error.code).toBe('bad_request');
    expect(result.error.message).toBe(message);
    expect(result.requestId).toBeUndefined();
  });
});

describe('parseClientFrame: size cap', () => {
  it('counts bytes, not characters: two-byte characters over the cap are too_large', () => {
    // Prepare
    const body = JSON.stringify({ action: 'ping', pad: 'é'.repeat(MAX_CLIENT_FRAME_BYTES / 2) });

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(body.length).toBeLessThan(MAX_CLIENT_FRAME_BYTES);
    expect(Buffer.byteLength(body)).toBeGreaterThan(MAX_CLIENT_FRAME_BYTES);
    expect(error.code).toBe('too_large');
    expect(error.message).toBe(`message over ${MAX_CLIENT_FRAME_BYTES} bytes`);
  });

  it('counts four-byte characters (emoji) by their UTF-8 size', () => {
    // Prepare
    const body = JSON.stringify({ action: 'ping', pad: '😀'.repeat(MAX_CLIENT_FRAME_BYTES / 4) });

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(body.length).toBeLessThan(MAX_CLIENT_FRAME_BYTES);
    expect(error.code).toBe('too_large');
  });

  it('refuses one byte over the cap', () => {
    // Prepare
    const core = '{"action":"ping"}';
    const body = core + ' '.repeat(MAX_CLIENT_FRAME_BYTES - core.length + 1);

    // Act
    const { error, requestId } = errorOf(parseClientFrame(body));

    // Assess
    expect(Buffer.byteLength(body)).toBe(MAX_CLIENT_FRAME_BYTES + 1);
    expect(error.code).toBe('too_large');
    expect(requestId).toBeUndefined();
  });

  it('checks the size before the JSON, so an oversized non-JSON body is too_large', () => {
    // Prepare
    const body = '{'.repeat(MAX_CLIENT_FRAME_BYTES + 1);

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(error.code).toBe('too_large');
  });
});

describe('parseClientFrame: deeply nested JSON under the cap', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it.each<[string, string, string]>([
    ['as the whole message', deep(15_000), 'message must be a JSON object'],
    ['in an unknown field', `{"action":"ping","x":${deep(15_000)}}`, 'Unrecognized key: "x"'],
    [
      'as a group name',
      `{"action":"register","clientType":"viewer","groups":[${deep(15_000)}]}`,
      'groups.0: Invalid input: expected string, received array',
    ],
  ])('answers bad_request without throwing %s', (_where, body, message) => {
    // Prepare
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_CLIENT_FRAME_BYTES);

    // Act
    const { error } = errorOf(parseClientFrame(body));

    // Assess
    expect(error.code).toBe('bad_request');
    expect(error.message).toBe(message);
  });
});

describe('parseClientFrame: requestId on errors', () => {
  it.each<[string, Record<string, unknown>, ErrorCode]>([
    ['a field error', { action: 'join', requestId: 'req-7' }, 'bad_request'],
    ['an unknown action', { action: 'dance', requestId: 'req-7' }, 'unknown_action'],
    ['a missing action', { requestId: 'req-7' }, 'bad_request'],
    ['an unknown field', { action: 'ping', requestId: 'req-7', x: 1 }, 'bad_request'],
  ])('echoes the requestId on %s', (_what, frame, code) => {
    // Prepare
    const body = JSON.stringify(frame);

    // Act
    const result = errorOf(parseClientFrame(body));

    // Assess
    expect(result.error.code).toBe(code);
    expect(result.requestId).toBe('req-7');
  });

  it('echoes at most 128 characters of an over-long requestId', () => {
    // Prepare
    const long = `${'a'.repeat(128)}TAIL`;

    // Act
    const result = errorOf(parseClientFrame(JSON.stringify({ action: 'ping', requestId: long })));

    // Assess
    expect(result.error.code).toBe('bad_request');
    expect(result.requestId).toBe('a'.repeat(128));
  });

  it.each<[string, unknown]>([
    ['a number', 7],
    ['an object', { id: 1 }],
    ['an empty string', ''],
  ])('does not echo a requestId that is %s', (_what, requestId) => {
    // Prepare
    const body = JSON.stringify({ action: 'join', requestId });

    // Act
    const result = errorOf(parseClientFrame(body));

    // Assess
    expect(result.error.code).toBe('bad_request');
    expect(result).not.toHaveProperty('requestId');
  });
});

describe('parseClientFrame: properties', () => {
  /** Strings that look like frames: valid actions with arbitrary field values, and junk. */
  const frameLike = fc
    .record(
      {
        action: fc.oneof(fc.constantFrom(...CLIENT_ACTIONS, 'submit', 'x'), fc.jsonValue()),
        clientType: fc.oneof(fc.string(), fc.jsonValue()),
        group: fc.oneof(fc.string(), fc.jsonValue()),
        groups: fc.oneof(fc.array(fc.string()), fc.jsonValue()),
        requestId: fc.oneof(fc.string(), fc.jsonValue()),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o));

  const anyString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.json(),
    frameLike,
  );

  it('never throws and answers ok or an AppError with a frame error code', () => {
    fc.assert(
      fc.property(anyString, (body) => {
        // Act
        const result = parseClientFrame(body);

        // Assess
        if (result.ok) {
          expect(CLIENT_ACTIONS).toContain(result.frame.action);
          return;
        }
        expect(result.error).toBeInstanceOf(AppError);
        expect(FRAME_ERROR_CODES).toContain(result.error.code);
        expect(result.error.message.length).toBeGreaterThan(0);
        expect(result.error.message).not.toMatch(/\n\s+at /);
        if (result.requestId !== undefined) {
          expect(typeof result.requestId).toBe('string');
          expect(result.requestId.length).toBeGreaterThan(0);
          expect(result.requestId.length).toBeLessThanOrEqual(128);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed join, leave and register frame unchanged', () => {
    const group = fc.stringMatching(GROUP_PATTERN);
    const frame = fc.oneof(
      fc.record({ action: fc.constantFrom('join', 'leave'), group }),
      fc.record({
        action: fc.constant('register'),
        clientType: fc.stringMatching(CLIENT_TYPE_PATTERN),
        groups: fc.array(group, { maxLength: MAX_GROUPS_PER_CONNECTION }),
      }),
    );
    fc.assert(
      fc.property(frame, (f) => {
        // Act
        const result = parseClientFrame(JSON.stringify(f));

        // Assess
        expect(result).toEqual({ ok: true, frame: f });
      }),
    );
  });
});
