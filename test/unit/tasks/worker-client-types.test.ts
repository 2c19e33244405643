import { systemClock } from '../../../src/ports/clock';
import { frameFactory } from '../../../src/push/frames';
import { anyTaskType, createTaskRegistry, TASK_TYPES } from '../../../src/tasks/registry';
import { handleClientFrame, privilegedClientTypes } from '../../../src/ws/session';
import { MemoryConnectionStore } from '../core/fakes';
import { echoType } from './echo-type';

/** A session on one connection with the given roles, and a privileged list (or the default). */
function session(roles: ('client' | 'worker')[], privileged?: readonly string[]) {
  const store = new MemoryConnectionStore();
  store.seed({ connectionId: 'c1', userId: 'u1', roles });
  const ports = {
    store,
    frames: frameFactory(systemClock),
    clock: systemClock,
    ...(privileged ? { privilegedClientTypes: privileged } : {}),
  };
  return async (clientType: string) => {
    const [reply] = await handleClientFrame(ports, 'c1', { action: 'register', clientType });
    return reply;
  };
}

describe('register: worker client types come from the task types', () => {
  const withEcho = privilegedClientTypes(
    createTaskRegistry([...TASK_TYPES, anyTaskType(echoType)]),
  );

  it.each(['http', 'download', 'logic'])(
    'refuses a client token the shipped privileged type %s',
    async (clientType) => {
      await expect(session(['client'])(clientType)).rejects.toThrow(
        `clientType "${clientType}" needs the worker or admin role`,
      );
    },
  );

  it('refuses a client token a registered type’s workerClientType', async () => {
    await expect(session(['client'], withEcho)('echo-worker')).rejects.toMatchObject({
      code: 'forbidden',
      message: 'clientType "echo-worker" needs the worker or admin role',
    });
  });

  it('lets a worker token register as it, and anyone as an unprivileged type', async () => {
    await expect(session(['worker'], withEcho)('echo-worker')).resolves.toMatchObject({
      type: 'registered',
      clientType: 'echo-worker',
    });
    await expect(session(['client'], withEcho)('echo')).resolves.toMatchObject({
      type: 'registered',
      clientType: 'echo',
    });
  });
});
