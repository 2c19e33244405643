import { writeHeapSnapshot } from 'node:v8';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { collectingLog } from '../harness';
import { memoryAfterGc, waitFor } from './memory-report';
import { send, serveChild } from './serve';

/**
 * A bench child process running the local runtime against a DynamoDB endpoint of another
 * process (bench/children/dynalite.ts), so its memory is the gateway's and the runtime's alone.
 * Forked with `--expose-gc`. Started with `BENCH_DYNAMO_ENDPOINT` and `BENCH_AUTH_SECRET` in its
 * environment; replies `ready` with the WebSocket URL. `measure` waits until the gateway holds
 * `live` connections, collects garbage and replies the memory figures; `snapshot` writes a heap
 * snapshot (diagnostics).
 */

type Command = { op: 'measure'; live: number } | { op: 'snapshot'; file: string };

serveChild<Command>(async () => {
  const endpoint = process.env.BENCH_DYNAMO_ENDPOINT;
  const secret = process.env.BENCH_AUTH_SECRET;
  if (!endpoint || !secret) throw new Error('BENCH_DYNAMO_ENDPOINT and BENCH_AUTH_SECRET needed');
  const log = collectingLog();
  const rt: LocalRuntime = await startLocalRuntime({
    host: '127.0.0.1',
    wsPort: 0,
    httpPort: 0,
    authSecret: secret,
    log,
    workers: false,
    connectionSweepMs: 0,
    dynamoEndpoint: endpoint,
  });
  return {
    ready: { url: rt.wsUrl },
    handle: async (command) => {
      if (command.op === 'measure') {
        const live = await waitFor(
          async () => (await rt.gateway.connectionIds()).length,
          command.live,
        );
        const memory = await memoryAfterGc();
        send({
          op: 'measured',
          ...memory,
          live,
          logWarningsAndErrors: log.count,
          log: log.entries,
        });
      } else {
        send({ op: 'snapshotted', file: writeHeapSnapshot(command.file) });
      }
    },
    close: () => rt.stop(),
  };
});
