import { createMessageHandler } from '../../lambdas/ws/message';
import { buildAsyncApi } from '../../scripts/specs/asyncapi';
import { specInfo } from '../../scripts/specs/documents';
import { SERVER_FRAMES } from '../../scripts/specs/ws-schemas';
import { frameFactory } from '../../src/push/frames';
import { Pusher } from '../../src/push/pusher';
import { silentLog } from '../../src/ports/log';
import type { Task } from '../../src/tasks/task';
import { taskUpdateFrame } from '../../src/tasks/updates';
import { CLIENT_ACTIONS } from '../../src/ws/client-frames';
import { MemoryTaskStore } from '../support/memory-task-store';
import { ManualClock, MemoryConnectionStore } from '../unit/core/fakes';
import { MemoryStreamLog } from '../unit/streams/memory-stream-log';
import { RecordingPoster } from './answers';
import { expectDocumentedFrame } from './documented';

/*
 * Every frame the server sends is one the AsyncAPI document lists, with a payload its schema
 * accepts (closed at the top: no undocumented field): the replies of the message route to each
 * client action, its error frames, and task updates in every state.
 */

const NOW = new Date('2026-11-22T00:00:00.000Z');
const asyncapi = buildAsyncApi(specInfo());
const seen = new Set<string>();
const actions = new Set<string>();

/** Checks a frame against the document and notes its type. */
function expectDocumented(frame: unknown): void {
  expectDocumentedFrame(asyncapi, frame);
  seen.add(String((frame as { type: unknown }).type));
}

function setup(options: { streams?: MemoryStreamLog } = {}) {
  const clock = new ManualClock(NOW);
  const store = new MemoryConnectionStore();
  store.seed({ connectionId: 'c1', userId: 'alice', roles: ['client'], allowedGroups: ['ops'] });
  const poster = new RecordingPoster();
  const handler = createMessageHandler({
    store,
    pusher: new Pusher({ poster, store, log: silentLog }),
    submit: {
      tasks: new MemoryTaskStore(),
      queue: { enqueue: async () => undefined },
      clock,
      log: silentLog,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    log: silentLog,
    clock,
    ...(options.streams ? { streams: options.streams } : {}),
  });
  /** Sends a client frame and answers the reply frame (the route response). */
  const send = async (body: unknown): Promise<Record<string, unknown>> => {
    const action = (body as { action?: unknown }).action;
    if (typeof action === 'string') actions.add(action);
    const result = await handler({
      requestContext: { connectionId: 'c1', routeKey: '$default', eventType: 'MESSAGE' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return result.body === undefined ? {} : (JSON.parse(result.body) as Record<string, unknown>);
  };
  return { send, poster };
}

describe('server frames match the AsyncAPI document', () => {
  it('for the reply to every client action', async () => {
    const { send, poster } = setup();
    const replies = [
      await send({ action: 'register', clientType: 'viewer', groups: ['ops'], requestId: 'r0' }),
      await send({ action: 'join', group: 'ops', requestId: 'r1' }),
      await send({ action: 'leave', group: 'ops' }),
      await send({ action: 'ping', requestId: 'p1' }),
    ];
    expect(replies.map((r) => r.type)).toEqual(['registered', 'joined', 'left', 'pong']);
    for (const reply of replies) expectDocumented(reply);

    // task.accepted goes straight to the connection, before the task is queued.
    await send({ action: 'submit', taskType: 'logic', args: ['x'], requestId: 's1' });
    expect(poster.frames.map((f) => f.frame.type)).toEqual(['task.accepted']);
    for (const { frame } of poster.frames) expectDocumented(frame);
  });

  it('for the reply to cancel, whether it changed the task or not', async () => {
    // Prepare: alice's task, accepted straight to the connection
    const { send, poster } = setup();
    await send({ action: 'submit', taskType: 'logic', args: ['x'], requestId: 's2' });
    const taskId = String(poster.frames[0]?.frame.taskId);

    // Act
    const first = await send({ action: 'cancel', taskId, requestId: 'c1' });
    const again = await send({ action: 'cancel', taskId });

    // Assess
    expect(first).toMatchObject({ type: 'task.cancelled', status: 'cancelled', changed: true });
    expect(again).toMatchObject({ type: 'task.cancelled', status: 'cancelled', changed: false });
    expectDocumented(first);
    expectDocumented(again);
  });

  it('for stream frames: tips on register and join, replayed frames, resumed', async () => {
    // Prepare: a stream log with two frames in alice's stream
    const streams = new MemoryStreamLog({
      clock: new ManualClock(NOW),
      historySeconds: 86_400,
      historySize: 1000,
    });
    const frames = frameFactory(new ManualClock(NOW));
    const first = await streams.append(
      'user:alice',
      frames.make('message', { data: 1, to: { user: 'alice' } }),
    );
    await streams.append('user:alice', frames.make('message', { data: 2, to: { user: 'alice' } }));
    const tips = await streams.tips(['user:alice']);
    const { send, poster } = setup({ streams });

    // Act: a plain join, then a register that resumes from the first frame
    const joined = await send({ action: 'join', group: 'ops', requestId: 'j1' });
    await send({
      action: 'register',
      clientType: 'viewer',
      resume: { 'user:alice': { epoch: tips.get('user:alice')?.epoch, seq: first.seq } },
      requestId: 'r1',
    });

    // Assess: registered, the replayed second frame, resumed — each documented
    expect(joined.type).toBe('joined');
    expectDocumented(joined);
    expect(poster.frames.map((f) => f.frame.type)).toEqual(['registered', 'message', 'resumed']);
    expect(poster.frames[1]?.frame).toMatchObject({ replayed: true, stream: 'user:alice', seq: 2 });
    for (const { frame } of poster.frames) expectDocumented(frame);
  });

  it('for session.expiring', () => {
    const frames = frameFactory(new ManualClock(NOW));
    expectDocumented(frames.make('session.expiring', { closesAt: NOW.toISOString() }));
  });

  it('for socket-worker frames (task.assign, task.ack, task.cancel)', () => {
    // The fields as src/tasks/socket/socket-workers.ts sends them (the frame types are checked
    // against the same schemas at compile time); the live frames are in socket-workers.test.ts.
    const frames = frameFactory(new ManualClock(NOW));
    const taskId = 't_aaaaaaaaaaaaaaaaaaaa';
    expectDocumented(
      frames.make('task.assign', {
        taskId,
        taskType: 'logic',
        args: { args: ['a'] },
        parentTaskId: 't_bbbbbbbbbbbbbbbbbbbb',
        attempt: 2,
        leaseSeconds: 30,
      }),
    );
    expectDocumented(frames.make('task.ack', { taskId, requestId: 'r1' }));
    expectDocumented(frames.make('task.cancel', { taskId }));
  });

  it('for worker actions where socket workers are off: unknown_action', async () => {
    const { send } = setup();
    const taskId = 't_aaaaaaaaaaaaaaaaaaaa';
    const answers = [
      await send({ action: 'progress', taskId, progress: 0.5 }),
      await send({ action: 'result', taskId, result: {} }),
      await send({ action: 'fail', taskId, error: 'x' }),
    ];
    expect(answers.map((a) => [a.type, a.code])).toEqual([
      ['error', 'unknown_action'],
      ['error', 'unknown_action'],
      ['error', 'unknown_action'],
    ]);
    for (const a of answers) expectDocumented(a);
  });

  it('for error frames', async () => {
    const { send } = setup();
    const errors = [
      await send('not json'),
      await send({ action: 'nope', requestId: 'r9' }),
      await send({ action: 'join', group: 'eng' }),
      await send({ action: 'submit', taskType: 'nope', args: [] }),
    ];
    expect(errors.map((e) => [e.type, e.code])).toEqual([
      ['error', 'bad_request'],
      ['error', 'unknown_action'],
      ['error', 'forbidden'],
      ['error', 'bad_request'],
    ]);
    for (const e of errors) expectDocumented(e);
  });

  it('for task updates in every state', () => {
    const frames = frameFactory(new ManualClock(NOW));
    const base: Task = {
      taskId: 't_aaaaaaaaaaaaaaaaaaaa',
      taskType: 'download',
      args: { dsNumber: '1', server: 'local' },
      status: 'queued',
      source: 'ws',
      requester: { userId: 'alice' },
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
      expiresAt: 2_000_000_000,
    };
    for (const task of [
      base,
      { ...base, status: 'running', progress: 0.5 },
      { ...base, status: 'succeeded', progress: 1, result: { lines: 3 } },
      { ...base, status: 'failed', error: 'HTTP 404', parentTaskId: 't_bbbbbbbbbbbbbbbbbbbb' },
      { ...base, status: 'cancelled', progress: 0.3 },
    ] satisfies Task[]) {
      expectDocumented(taskUpdateFrame(frames, task));
    }
  });

  it('covers every server frame type and client action of the document', () => {
    // `message` frames are checked with the HTTP pushes too (http-answers.test.ts).
    expect([...new Set([...seen, 'message'])].sort()).toEqual(Object.keys(SERVER_FRAMES).sort());
    expect([...actions]).toEqual(expect.arrayContaining([...CLIENT_ACTIONS]));
  });
});
