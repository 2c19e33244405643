import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { ROOT, specDocuments } from './specs/documents';

/**
 * `npm run specs`: writes docs/openapi.json (OpenAPI 3.1, the HTTP API) and docs/asyncapi.json
 * (AsyncAPI 3.0, the WebSocket frames), generated from the route table and the zod schemas
 * that validate the traffic, formatted with the project's Prettier settings.
 * test/specs/specs.test.ts fails while a committed document differs from what this writes.
 */
async function main(): Promise<void> {
  for (const { file, document } of specDocuments()) {
    const target = path.join(ROOT, file);
    const options = (await resolveConfig(target)) ?? {};
    const text = await format(JSON.stringify(document), { ...options, filepath: target });
    writeFileSync(target, text);
    process.stdout.write(`wrote ${file}\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`specs: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
