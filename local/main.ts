// Before anything loads the AWS SDK (an environment assignment, so parent-watch is not delayed).
import { expiringLeadSeconds } from '../src/connections/lifetime';
import './sdk-warning';
// Next: it notes this process's parent before the rest takes a second to load.
import { LIFELINES_AT_LOAD, watchParent } from './parent-watch';
import { type OidcSettings, parseOidcSettings } from '../src/auth/oidc-settings';
import { signToken } from '../src/auth/token';
import { Logger } from '@aws-lambda-powertools/logger';
import { localAuthSecret } from './dev-secret';
import { startLocalRuntime } from './runtime';
import { gatewayModeFromEnv } from './ws-gateway-process';
import { functionModeFromEnv } from './function-environment';
import { SAMPLE_CREDENTIALS } from './sample-server';
import { localWecom, localWecomBot } from './wecom-dev';

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new Error(`${name} must be a port number (0-65535), got "${raw}"`);
  }
  return n;
}

/** A duration setting in ms, at least `min`; undefined when unset. */
function millis(name: string, min: number): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(
      `${name} must be a whole number of milliseconds, at least ${min}, got "${raw}"`,
    );
  }
  return n;
}

/** The OIDC issuer of `TASKWIRE_OIDC` (JSON, docs/local.md), or undefined for HS256 only. */
function oidc(): OidcSettings | undefined {
  const raw = process.env.TASKWIRE_OIDC;
  if (raw === undefined || raw.trim() === '') return undefined;
  return parseOidcSettings(raw, 'TASKWIRE_OIDC');
}

async function main() {
  const secret = localAuthSecret();
  const issuer = oidc();
  const log = new Logger({
    serviceName: 'taskwire-local',
    logLevel: (process.env.TASKWIRE_LOG_LEVEL ?? 'INFO') as 'INFO',
  });
  // Signed first: the console's config.json pre-fills the sign-in field with it.
  const token = await signToken(
    { sub: 'dev', roles: ['client', 'worker', 'admin'], groups: ['*'], ttlSeconds: 12 * 3600 },
    secret,
  );
  // Set once the runtime is up: what to do if its gateway process dies.
  const gatewayLost: { notify?: (e: Error) => void } = {};
  const runtime = await startLocalRuntime({
    // The gateway in a process of its own, as API Gateway is a service of its own.
    gateway: gatewayModeFromEnv('process'),
    // The fan-out's and the sweeper's execution environments too, as Lambda runs each apart.
    functionEnvironments: functionModeFromEnv('process'),
    onGatewayExit: (e) => gatewayLost.notify?.(e),
    consoleToken: token,
    wsPort: port('TASKWIRE_WS_PORT', 3001),
    httpPort: port('TASKWIRE_HTTP_PORT', 3000),
    authSecret: secret,
    ...(issuer ? { oidc: issuer } : {}),
    log,
    ...(process.env.TASKWIRE_DATA_DIR ? { dataPath: process.env.TASKWIRE_DATA_DIR } : {}),
    // Short deadlines make the reaper's recovery visible in seconds (docs/local.md).
    reaper: {
      intervalMs: millis('TASKWIRE_REAPER_MS', 0),
      queuedDeadlineMs: millis('TASKWIRE_TASK_DEADLINE_MS', 1000),
      runningDeadlineMs: millis('TASKWIRE_TASK_DEADLINE_MS', 1000),
    },
    wecom: localWecom(),
    wecomBot: localWecomBot(),
    // What the intelligent bot's chat would show of results that outlived their stream.
    onBotResponse: (post) => {
      const body = post.body as { markdown?: { content?: string } };
      const text = body.markdown?.content ?? JSON.stringify(post.body);
      process.stdout.write(`\n[response_url] ${text.replace(/\n/g, '\n[response_url] ')}\n`);
    },
    // What the WeCom group chat would show, printed as the robot webhook receives it.
    onChatMessage: (post) => {
      const body = post.body as {
        markdown?: { content?: string };
        markdown_v2?: { content?: string };
        text?: { content?: string };
      };
      const text =
        body.markdown?.content ??
        body.markdown_v2?.content ??
        body.text?.content ??
        JSON.stringify(post.body);
      process.stdout.write(`\n[chat] ${text.replace(/\n/g, '\n[chat] ')}\n`);
    },
  });
  const out = process.stdout;
  out.write(`
Taskwire local runtime
  WebSocket       ${runtime.wsUrl}${runtime.gatewayPid !== undefined ? ` (gateway process ${runtime.gatewayPid}; TASKWIRE_WS_GATEWAY=inline keeps it in this one)` : ''}
  HTTP API        ${runtime.httpUrl}
  Console         ${runtime.consoleUrl} (open it in a browser: the dev token is filled in)
  WeCom callback  ${runtime.httpUrl}/wecom/callback
  WeCom bot       ${runtime.httpUrl}/wecom/bot (intelligent bot, JSON; token ${runtime.wecomBot.token}, EncodingAESKey ${runtime.wecomBot.encodingAesKey}${process.env.WECOM_BOT_TOKEN ? '' : ': dev values, set WECOM_BOT_TOKEN / WECOM_BOT_ENCODING_AES_KEY'})
  bot streams     refreshed for ${runtime.wecomStream.windowMs / 1000} s, finished ${runtime.wecomStream.marginMs / 1000} s before (TASKWIRE_WECOM_STREAM_WINDOW_S / _MARGIN_S); response_url receiver ${runtime.responseUrlFor('CODE')} (printed below as [response_url])
  @connections    ${runtime.managementEndpoint}
  DynamoDB        ${runtime.dynamoEndpoint} (dynalite, ${process.env.TASKWIRE_DATA_DIR ? 'on disk' : 'in memory'})
  SQS             ${new URL(runtime.queueUrls['taskwire-download'] ?? 'http://-').origin} (local-aws-sqs, pollers running)
  sample server   ${runtime.sampleServerUrl} (server "local": datasets 12345, 22222, 33333; 90000 is slow)
  chat webhook    ${runtime.chat.url} (printed below as [chat])
  auth secret     ${process.env.TASKWIRE_AUTH_SECRET ? 'from TASKWIRE_AUTH_SECRET' : 'dev default (set TASKWIRE_AUTH_SECRET to change)'}
  streams         ${runtime.history ? `history ${runtime.history.historySeconds} s, ${runtime.history.historySize} frames a stream (TASKWIRE_HISTORY_SECONDS / _SIZE)` : 'off'}
  connections     closed ${runtime.lifetime.maxAgeSeconds} s after they open or ${runtime.lifetime.idleSeconds} s idle, warned by session.expiring ${expiringLeadSeconds(runtime.lifetime.maxAgeSeconds)} s before (TASKWIRE_WS_MAX_AGE_S / _IDLE_S)
  OIDC issuer     ${issuer ? `${issuer.issuer} (audience ${String(issuer.audience)}, roles from "${issuer.rolesClaim}")` : 'none (set TASKWIRE_OIDC to trust one)'}

Dev token (user "dev", roles client,worker,admin, any group, 12 h):
  TOKEN=${token}

Try it:
  npx wscat -c "${runtime.wsUrl}/?token=$TOKEN"
  > {"action":"register","clientType":"http","groups":["ops"]}
  > {"action":"submit","taskType":"download","args":["12345"]}
  > {"action":"ping"}
  # reconnect later and resume: send back the "streams" tips that "registered" gave you
  > {"action":"register","clientType":"http","resume":{"user:dev":{"epoch":"<epoch>","seq":<seq>}}}
  npm run wecom -- "download 12345"          # play WeCom: encrypted, signed, like the real callback
  npm run wecom -- --bot "download 12345"    # play the intelligent bot: a stream, refreshed every second
  curl -s -X POST ${runtime.httpUrl}/groups/ops/messages -H "authorization: Bearer $TOKEN" -d '{"data":"to ops"}'
  curl -s ${runtime.httpUrl}/stats -H "authorization: Bearer $TOKEN"
  # a socket worker (it gets the types TASKWIRE_PLACEMENT sends to websocket/auto; now ${JSON.stringify(runtime.placement.placement)}):
  npm run worker -- --url ${runtime.wsUrl} --token $TOKEN --type download,logic --artifacts ${runtime.artifactsRoot} --servers '{"local":{"baseUrl":"${runtime.sampleServerUrl}","path":"/datasets/{dsNumber}"}}' --credentials '{"local":${JSON.stringify(SAMPLE_CREDENTIALS)}}'
More tokens: npm run token -- --sub alice --roles client --groups ops

ready: ws=${runtime.wsUrl} http=${runtime.httpUrl} pid=${process.pid}
`);
  let stopping = false;
  const shutdown = (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    out.write(`\n${signal}: stopping...\n`);
    runtime.stop().then(
      () => {
        out.write('stopped\n');
        process.exit(exitCode);
      },
      (e: unknown) => {
        process.stderr.write(`stop failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  watchParent(LIFELINES_AT_LOAD, (why) => shutdown(why));
  // Without its gateway the runtime serves no WebSocket client: say so and stop, rather than
  // run on half alive.
  gatewayLost.notify = (e) => {
    process.stderr.write(`taskwire: ${e.message}; stopping (restart npm start)\n`);
    shutdown('gateway lost', 1);
  };
}

main().catch((e: unknown) => {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EADDRINUSE') {
    process.stderr.write(
      `taskwire: a port is in use (${err.message}); set TASKWIRE_HTTP_PORT / TASKWIRE_WS_PORT to free ones\n`,
    );
  } else {
    process.stderr.write(`taskwire: failed to start: ${err.message ?? String(e)}\n`);
  }
  process.exit(1);
});
