/**
 * Imported first by local/main.ts, before anything that loads the AWS SDK. The SDK warns once
 * per process that its releases after early 2027 need Node 22. Taskwire targets Node 22 (the
 * Lambda runtime, `.nvmrc`) but still runs on Node 20 (`engines`), where the warning would
 * only repeat on every `npm start` what CONTRIBUTING.md already says. An explicit value in the
 * environment is left as it is, so `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false`
 * brings the warning back.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
