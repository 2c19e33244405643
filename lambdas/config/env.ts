/**
 * Names of the environment variables the stack sets and the handlers read. Its own module (no
 * imports) so that reading a setting never drags the function catalog into a Lambda bundle.
 */
export const ENV = {
  connectionsTable: 'CONNECTIONS_TABLE',
  managementEndpoint: 'WS_MANAGEMENT_ENDPOINT',
  authSecretArn: 'AUTH_SECRET_ARN',
  authSecret: 'TASKWIRE_AUTH_SECRET',
  tasksTable: 'TASKS_TABLE',
  /** JSON object: task type → SQS queue URL. */
  taskQueues: 'TASK_QUEUES',
  /** JSON object: server name → { baseUrl, path?, timeoutMs?, maxBytes? } (no credentials). */
  downloadServers: 'DOWNLOAD_SERVERS',
  defaultDownloadServer: 'DEFAULT_DOWNLOAD_SERVER',
  /** JSON object: alias word → command word (e.g. {"下载":"download"}); optional. */
  commandAliases: 'COMMAND_ALIASES',
  /** Secrets Manager secret (JSON: token, encodingAesKey, corpId) in the cloud. */
  wecomSecretArn: 'WECOM_SECRET_ARN',
  wecomToken: 'WECOM_TOKEN',
  wecomEncodingAesKey: 'WECOM_ENCODING_AES_KEY',
  wecomCorpId: 'WECOM_CORP_ID',
  /** Secrets Manager secret of the intelligent bot (JSON: token, encodingAesKey) in the cloud. */
  wecomBotSecretArn: 'WECOM_BOT_SECRET_ARN',
  wecomBotToken: 'WECOM_BOT_TOKEN',
  wecomBotEncodingAesKey: 'WECOM_BOT_ENCODING_AES_KEY',
  /** Seconds WeCom refreshes a bot stream (default 360) and the margin before its end (30). */
  wecomStreamWindowSeconds: 'TASKWIRE_WECOM_STREAM_WINDOW_S',
  wecomStreamMarginSeconds: 'TASKWIRE_WECOM_STREAM_MARGIN_S',
  /** Comma-separated hosts a bot's response_url may point at (default qyapi.weixin.qq.com). */
  wecomResponseHosts: 'TASKWIRE_WECOM_RESPONSE_HOSTS',
  /** S3 bucket for downloaded files and large results. */
  artifactsBucket: 'ARTIFACTS_BUCKET',
  /** DynamoDB table of Powertools Idempotency records. */
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  /** Secrets Manager secret (JSON: server name → {username, password}). */
  downloadCredentialsArn: 'DOWNLOAD_CREDENTIALS_SECRET_ARN',
  /** Group robot webhook used when a callback carried none. */
  wecomWebhookUrl: 'WECOM_WEBHOOK_URL',
  /** Comma-separated hosts a webhook may point at (default WeCom's). */
  wecomWebhookHosts: 'WECOM_WEBHOOK_HOSTS',
  /** DynamoDB table of async deliveries and scheduled messages. */
  messagesTable: 'MESSAGES_TABLE',
  /** SQS queue of fan-out batches and due scheduled messages. */
  fanoutQueueUrl: 'FANOUT_QUEUE_URL',
  /** JSON: the trusted OpenID Connect issuer (src/auth/oidc-settings.ts); unset = HS256 only. */
  oidc: 'TASKWIRE_OIDC',
  /** GetConnection calls per second the connection sweep may spend (src/connections/sweep.ts). */
  sweepChecksPerSecond: 'TASKWIRE_SWEEP_CHECKS_PER_SECOND',
  /** DynamoDB table of the stream log (src/streams/schema.ts). */
  streamsTable: 'STREAMS_TABLE',
  /** Seconds a stream keeps its frames (default 86400). */
  historySeconds: 'TASKWIRE_HISTORY_SECONDS',
  /** Most frames a stream keeps (default 1000). */
  historySize: 'TASKWIRE_HISTORY_SIZE',
  /** The WebSocket gateway's connection cap in seconds (API Gateway: 7200): when to warn. */
  wsMaxAgeSeconds: 'TASKWIRE_WS_MAX_AGE_S',
  /** The gateway's idle limit in seconds (API Gateway: 600); the local gateway enforces it. */
  wsIdleSeconds: 'TASKWIRE_WS_IDLE_S',
  /** JSON: task type → `lambda` | `websocket` | `auto` (src/tasks/socket/placement.ts). */
  placement: 'TASKWIRE_PLACEMENT',
  /** Seconds a `websocket` task waits for a free socket worker (default 300). */
  placementTimeoutSeconds: 'TASKWIRE_PLACEMENT_TIMEOUT_S',
  /** A socket worker's lease in seconds (default 30). */
  leaseSeconds: 'TASKWIRE_LEASE_SECONDS',
  /** The WebSocket URL clients connect to (the console's config.json). */
  webSocketUrl: 'TASKWIRE_WS_URL',
} as const;
