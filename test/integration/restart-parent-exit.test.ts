import { freePorts, portFree } from '../support/ports';
import { killSpawned, processAlive, spawnTracked, STOP_BOUND_MS } from '../support/processes';

/**
 * `npm start` stopped the way a process manager or a terminal stops it: a signal to the pid npm
 * has. npm runs the runtime under `sh -c`, so npm's death alone does not reach it; the runtime
 * must notice and stop, freeing its ports, instead of living on as an orphan.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['SIGTERM', 'SIGKILL'] as const)('npm start, its npm process sent %s', (signal) => {
  const leftovers: number[] = [];
  afterEach(async () => {
    // npm's process group (npm, its shell, the runtime), then a runtime that left it.
    await killSpawned();
    for (const pid of leftovers.splice(0)) if (processAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  it('stops the runtime and frees its ports', async () => {
    // Prepare
    const [httpPort = 0, wsPort = 0] = await freePorts(2);
    const started = spawnTracked('npm', ['start'], {
      ...process.env,
      TASKWIRE_HTTP_PORT: String(httpPort),
      TASKWIRE_WS_PORT: String(wsPort),
      TASKWIRE_LOG_LEVEL: 'WARN',
    });
    const npm = started.process;
    const ready = await started.waitForOutput(/ready: ws=\S+ http=\S+ pid=(\d+)/);
    const runtimePid = Number(ready[1]);
    leftovers.push(runtimePid);
    expect(runtimePid).not.toBe(npm.pid);
    expect(await portFree(httpPort)).toBe(false);

    // Act
    npm.kill(signal);
    await started.exitWithin();
    // A bound, not a speed: the runtime checks on its parent twice a second, then stops in order.
    const deadline = Date.now() + STOP_BOUND_MS;
    while (processAlive(runtimePid) && Date.now() < deadline) await sleep(100);

    // Assess
    expect({
      alive: processAlive(runtimePid),
      out: processAlive(runtimePid) ? started.output().slice(-3000) : '',
    }).toEqual({
      alive: false,
      out: '',
    });
    expect([await portFree(httpPort), await portFree(wsPort)]).toEqual([true, true]);
  }, 180_000);
});
