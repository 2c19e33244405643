import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildAsyncApi } from './asyncapi';
import { buildOpenApi, type SpecInfo } from './openapi';

/** The repository's root folder. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** A generated document and the file it is committed as (relative to the root). */
export interface SpecDocument {
  readonly file: string;
  readonly document: Record<string, unknown>;
}

/** The project's version and license (package.json), stamped into both documents. */
export function specInfo(root: string = ROOT): SpecInfo {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version?: unknown;
    license?: unknown;
  };
  if (typeof pkg.version !== 'string' || typeof pkg.license !== 'string') {
    throw new Error('package.json needs a version and a license');
  }
  return { version: pkg.version, license: pkg.license };
}

/**
 * Both documents, built in memory from the route table and the zod schemas. Pure: the same
 * sources always give the same documents, key order included.
 */
export function specDocuments(info: SpecInfo = specInfo()): SpecDocument[] {
  return [
    { file: 'docs/openapi.json', document: buildOpenApi(info) },
    { file: 'docs/asyncapi.json', document: buildAsyncApi(info) },
  ];
}
