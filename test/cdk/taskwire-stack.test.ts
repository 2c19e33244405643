import { synthTaskwire, type SynthesizedTaskwire } from './support/taskwire-template';
import { describeConsole } from './suites/console';
import { describeFunctions } from './suites/functions';
import { describeHttpApi } from './suites/http-api';
import { describeNag } from './suites/nag';
import { describeReaper } from './suites/reaper';
import { describeSocketWorkers } from './suites/socket-workers';
import { describeSweeper } from './suites/sweeper';
import { describeTables } from './suites/tables';
import { describeTaskQueues } from './suites/task-queues';
import { describeWebSocketApi } from './suites/websocket-api';
import { describeWecomBot } from './suites/wecom-bot';

/**
 * The Taskwire stack as `cdk synth` builds it: cdk.json context, the real catalog, real esbuild
 * bundles and the cdk-nag plugin. Building it bundles every function (each bundle costs an npx
 * start-up), so this file builds it once and the per-concern suites in suites/ share it.
 */

let taskwire: SynthesizedTaskwire | undefined;

beforeAll(() => {
  taskwire = synthTaskwire({ nag: true });
});

function get(): SynthesizedTaskwire {
  if (!taskwire) throw new Error('the app is built in beforeAll');
  return taskwire;
}

// First, so a nag failure reports as such rather than inside the first template read.
describeNag(get);
describeWebSocketApi(get);
describeHttpApi(get);
describeTables(get);
describeTaskQueues(get);
describeFunctions(get);
describeReaper(get);
describeSweeper(get);
describeSocketWorkers(get);
describeWecomBot(get);
describeConsole(get);
