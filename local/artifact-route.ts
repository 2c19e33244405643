import { readFile } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { verifyArtifactLink } from '../src/adapters/local-files/artifact-store';
import type { Clock } from '../src/ports/clock';
import type { LocalHttpRoute } from './http-api';

/**
 * `GET /artifacts/{key+}?expires&sig`: serves local artifacts behind the signed, expiring links
 * LocalArtifactStore makes, the way a presigned S3 URL serves them in the cloud.
 */
export function artifactRoute(options: {
  root: string;
  secret: Uint8Array;
  clock: Clock;
}): LocalHttpRoute {
  const root = resolve(options.root);
  return {
    method: 'GET',
    path: '/artifacts/{key+}',
    handler: async (raw) => {
      const event = raw as {
        pathParameters?: Record<string, string>;
        queryStringParameters?: Record<string, string>;
      };
      const key = event.pathParameters?.key ?? '';
      const q = event.queryStringParameters ?? {};
      const answer = (statusCode: number, code: string, message: string) => ({
        statusCode,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code, message } }),
      });
      if (
        !verifyArtifactLink(key, q.expires ?? '', q.sig ?? '', options.secret, options.clock.now())
      ) {
        return answer(403, 'forbidden', 'link is invalid or expired');
      }
      const path = resolve(root, key);
      if (!path.startsWith(root + sep)) return answer(403, 'forbidden', 'link is invalid');
      try {
        const body = await readFile(path);
        return {
          statusCode: 200,
          headers: { 'content-type': 'application/octet-stream' },
          body: body.toString('base64'),
          isBase64Encoded: true,
        };
      } catch {
        return answer(404, 'not_found', 'no such artifact');
      }
    },
  };
}
