import { runWorkerCli } from '../worker/run-cli';

/** `npm run worker -- --url … --token … --type download`: see worker/cli.ts for the flags. */
runWorkerCli(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  onSignal: (handler) => {
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  },
}).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`worker: failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
