/**
 * One error hierarchy, one mapper per transport: what an HTTP caller, a WebSocket client and
 * WeCom each get for every kind of error, and that a fault of ours is logged with its stack
 * and never shown.
 */
import { HTTP_STATUS, httpErrorResult } from '../../../lambdas/http/error-response';
import { commandRefusal, wecomErrorAnswer } from '../../../lambdas/http/wecom-answer';
import { wsErrorFrame } from '../../../lambdas/ws/error-frame';
import {
  AppError,
  badRequest,
  ERROR_CODES,
  type ErrorCode,
  INTERNAL_ERROR_MESSAGE,
  isAppError,
} from '../../../src/errors/app-error';
import { frameFactory } from '../../../src/push/frames';
import { WECOM_ERROR_CODES, WecomError, type WecomErrorCode } from '../../../src/wecom/errors';
import { ManualClock, RecordingLog } from '../core/fakes';

const frames = frameFactory(new ManualClock(new Date('2024-06-01T12:00:00.000Z')), () => 'f1');

/**
 * The general codes a caller is answered with for what it sent: all but `internal` and
 * `unavailable`, which are faults of ours (5xx).
 */
const CALLER_CODES = ERROR_CODES.filter((c) => c !== 'internal' && c !== 'unavailable');

const bodyOf = (body: string): unknown => JSON.parse(body);

describe('the error hierarchy', () => {
  it('makes WeCom refusals AppErrors with their own code and a general kind', () => {
    // Prepare / Act
    const e = new WecomError('bad_signature', 'msg_signature does not match');

    // Assess
    expect(e).toBeInstanceOf(AppError);
    expect(isAppError(e)).toBe(true);
    expect(e).toMatchObject({ name: 'WecomError', code: 'bad_signature', kind: 'unauthorized' });
    expect(e).not.toHaveProperty('status');
  });

  it('gives a general error its code as its kind', () => {
    // Prepare / Act
    const e = new AppError('conflict', 'already sent', { cause: new Error('x') });

    // Assess
    expect(e).toMatchObject({ code: 'conflict', kind: 'conflict', message: 'already sent' });
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('HTTP error mapper', () => {
  it.each<[ErrorCode, number]>([
    ['bad_request', 400],
    ['unknown_action', 400],
    ['unauthorized', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['conflict', 409],
    ['too_large', 413],
  ])('answers %s with %i and the code and message', (code, status) => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const result = httpErrorResult(new AppError(code, `it is ${code}`), log);

    // Assess
    expect(result.statusCode).toBe(status);
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(bodyOf(result.body)).toEqual({ error: { code, message: `it is ${code}` } });
    expect(log.entries).toEqual([]);
  });

  it('has a 4xx status for every caller code', () => {
    // Act
    const statuses = CALLER_CODES.map((c) => HTTP_STATUS[c]);

    // Assess
    for (const s of statuses) expect(s >= 400 && s < 500).toBe(true);
  });

  it.each(WECOM_ERROR_CODES.map((c) => [c] as [WecomErrorCode]))(
    'answers WeCom %s with a 4xx and its own code',
    (code) => {
      // Act
      const result = httpErrorResult(new WecomError(code, `refused: ${code}`), new RecordingLog());

      // Assess
      const expected = code === 'bad_signature' ? 401 : code === 'too_large' ? 413 : 400;
      expect(result.statusCode).toBe(expected);
      expect(bodyOf(result.body)).toEqual({ error: { code, message: `refused: ${code}` } });
    },
  );

  it.each<[string, unknown]>([
    ['an Error', new Error('boom at /srv/app.ts:12')],
    ['a thrown string', 'boom'],
    ['an AppError that says internal', new AppError('internal', 'disk on fire')],
  ])('answers %s with 500, logs it with its stack, and shows none of it', (_what, thrown) => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const result = httpErrorResult(thrown, log, { routeKey: 'GET /stats' });

    // Assess
    expect(result.statusCode).toBe(500);
    expect(bodyOf(result.body)).toEqual({
      error: { code: 'internal', message: INTERNAL_ERROR_MESSAGE },
    });
    expect(result.body).not.toMatch(/boom|disk|stack|\.ts/);
    expect(log.at('error')).toHaveLength(1);
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({ routeKey: 'GET /stats' });
    if (thrown instanceof Error) {
      expect(log.at('error')[0]?.attributes[0]).toMatchObject({
        error: { message: thrown.message, stack: expect.any(String) },
      });
    }
  });
});

describe('unavailable: a store we depend on failed', () => {
  const cause = new Error('ProvisionedThroughputExceededException');
  const unavailable = () =>
    new AppError('unavailable', 'the stream history could not be written', { cause });

  it('answers HTTP 503 with its code and message, and logs the cause for us', () => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const result = httpErrorResult(unavailable(), log, { routeKey: 'POST /broadcast' });

    // Assess
    expect(result.statusCode).toBe(503);
    expect(bodyOf(result.body)).toEqual({
      error: { code: 'unavailable', message: 'the stream history could not be written' },
    });
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({ routeKey: 'POST /broadcast' });
  });

  it('answers a WebSocket client with an unavailable error frame, and logs it', () => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const frame = wsErrorFrame(frames, unavailable(), log, { connectionId: 'c1' }, 'r1');

    // Assess
    expect(frame).toMatchObject({ type: 'error', code: 'unavailable', requestId: 'r1' });
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({ connectionId: 'c1' });
  });
});

describe('WebSocket error mapper', () => {
  it.each(CALLER_CODES.map((c) => [c] as [ErrorCode]))(
    'answers %s with an error frame of that code, echoing the requestId',
    (code) => {
      // Prepare
      const log = new RecordingLog();

      // Act
      const frame = wsErrorFrame(frames, new AppError(code, 'why'), log, {}, 'r1');

      // Assess
      expect(frame).toMatchObject({ type: 'error', code, message: 'why', requestId: 'r1' });
      expect(log.entries).toEqual([]);
    },
  );

  it('answers a WeCom refusal with the general code of its kind', () => {
    // Act
    const frame = wsErrorFrame(
      frames,
      new WecomError('bad_json', 'not JSON'),
      new RecordingLog(),
      {},
    );

    // Assess
    expect(frame).toMatchObject({ type: 'error', code: 'bad_request', message: 'not JSON' });
  });

  it('answers a fault with internal and no detail, and logs it with its stack', () => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const frame = wsErrorFrame(frames, new Error('boom'), log, { connectionId: 'c1' }, 'r2');

    // Assess
    expect(frame).toMatchObject({
      type: 'error',
      code: 'internal',
      message: INTERNAL_ERROR_MESSAGE,
      requestId: 'r2',
    });
    expect(JSON.stringify(frame)).not.toMatch(/boom|stack/);
    expect(log.at('error')[0]?.attributes[0]).toMatchObject({
      connectionId: 'c1',
      error: { message: 'boom', stack: expect.any(String) },
    });
  });
});

describe('WeCom answer mapper', () => {
  it('answers a command the task type refuses in the chat', () => {
    // Act
    const text = commandRefusal(badRequest('download takes at most 3 words'));

    // Assess
    expect(text).toBe('download takes at most 3 words');
  });

  it.each<[string, unknown]>([
    ['a fault', new Error('boom')],
    ['a conflict', new AppError('conflict', 'taken')],
  ])('leaves %s to the HTTP answer', (_what, thrown) => {
    // Act
    const text = commandRefusal(thrown);

    // Assess
    expect(text).toBeUndefined();
  });

  it('answers a forged callback with 401 bad_signature and a fault with a logged 500', () => {
    // Prepare
    const log = new RecordingLog();

    // Act
    const forged = wecomErrorAnswer(new WecomError('bad_signature', 'no match'), log);
    const fault = wecomErrorAnswer(new Error('boom'), log, { routeKey: 'POST /wecom/callback' });

    // Assess
    expect([forged.statusCode, bodyOf(forged.body)]).toEqual([
      401,
      { error: { code: 'bad_signature', message: 'no match' } },
    ]);
    expect(fault.statusCode).toBe(500);
    expect(fault.body).not.toMatch(/boom/);
    expect(log.at('error')).toHaveLength(1);
  });
});
