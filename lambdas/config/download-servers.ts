import * as z from '../../src/validation/zod';
import type { ResolvedServer } from '../../src/tasks/types/task-type';
import { ConfigError } from './config';
import type { DownloadServer } from './task-config';

/** Defaults for a server that does not set them. */
export const DOWNLOAD_DEFAULTS = {
  path: '/{dsNumber}',
  timeoutMs: 30_000,
  maxBytes: 50 * 1024 * 1024,
} as const;

/** The credentials secret: server name → basic-auth user and password. */
export const credentialsSchema = z.record(
  z.string(),
  z.strictObject({
    username: z.string().check(z.minLength(1)),
    password: z.string().check(z.minLength(1)),
  }),
);
export type ServerCredentials = z.infer<typeof credentialsSchema>;

/** Reads the credentials secret's text. @throws ConfigError. */
export function parseCredentials(raw: string | undefined, where: string): ServerCredentials {
  if (raw === undefined || raw.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`download credentials from ${where} are not JSON`);
  }
  const parsed = credentialsSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      `download credentials from ${where}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Joins configured servers with their credentials and defaults. */
export function resolveServers(
  servers: Readonly<Record<string, DownloadServer>>,
  credentials: ServerCredentials,
): Record<string, ResolvedServer> {
  return Object.fromEntries(
    Object.entries(servers).map(([name, s]) => {
      const creds = credentials[name];
      return [
        name,
        {
          name,
          baseUrl: s.baseUrl.replace(/\/+$/, ''),
          path: s.path ?? DOWNLOAD_DEFAULTS.path,
          timeoutMs: s.timeoutMs ?? DOWNLOAD_DEFAULTS.timeoutMs,
          maxBytes: s.maxBytes ?? DOWNLOAD_DEFAULTS.maxBytes,
          ...(creds ? { credentials: creds } : {}),
        },
      ];
    }),
  );
}
