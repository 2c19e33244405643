import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ROOT } from './import-graph';

/**
 * The layering rule of eslint.config.mjs, proven on sample files: the domain (src/ outside
 * src/adapters/) may not import a cloud SDK, the file system, an adapter, a handler or the local
 * runtime; an adapter may use the SDK but not reach handlers or the local runtime. The samples
 * are linted as text under made-up paths, so no file is written.
 */

const run = promisify(execFile);

/** A sample file: its text and the path it is linted as. */
interface Sample {
  readonly code: string;
  readonly filePath: string;
}

/**
 * Lints the samples with the project's ESLint config in one child process: the config is an ES
 * module, which ESLint loads with a dynamic import that Jest's module sandbox does not allow.
 * Answers each sample's `no-restricted-imports` messages.
 */
const LINT_SAMPLES = `
const { ESLint } = require('eslint');
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const samples = JSON.parse(process.argv[1]);
  const out = [];
  for (const s of samples) {
    const [result] = await eslint.lintText(s.code, { filePath: s.filePath });
    out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

async function lintAll(samples: readonly Sample[]): Promise<string[][]> {
  const { stdout } = await run(process.execPath, ['-e', LINT_SAMPLES, JSON.stringify(samples)], {
    cwd: ROOT,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as string[][];
}

const importing = (specifier: string) =>
  `import { thing } from '${specifier}';\n\nexport const used = thing;\n`;

const DOMAIN_FILE = 'src/tasks/fake.ts';
const ADAPTER_FILE = 'src/adapters/sqs/fake.ts';

/** What the domain may not import, by what it is. */
const DOMAIN_REFUSED: readonly [string, string][] = [
  ['an SDK client', '@aws-sdk/client-sqs'],
  ['a handler', '../../lambdas/x'],
  ['the handlers folder', '../../lambdas'],
  ['the local runtime', '../../local/runtime'],
  ['an adapter', '../adapters/sqs/task-queue'],
  ['@smithy', '@smithy/signature-v4'],
  ['aws-lambda', 'aws-lambda'],
  ['Powertools', '@aws-lambda-powertools/logger'],
  ['node:fs', 'node:fs'],
  ['node:fs/promises', 'node:fs/promises'],
];
/** What an adapter may not import. */
const ADAPTER_REFUSED: readonly [string, string][] = [
  ['a handler', '../../../lambdas/x'],
  ['the local runtime', '../../../local/runtime'],
];
const DOMAIN_ALLOWED = [
  "import { randomUUID } from 'node:crypto';",
  "import type { TaskQueue } from './task-queue';",
  '',
  'export const f = (q: TaskQueue) => [q, randomUUID()];',
  '',
].join('\n');

const SAMPLES: readonly Sample[] = [
  ...DOMAIN_REFUSED.map(([, spec]) => ({ code: importing(spec), filePath: DOMAIN_FILE })),
  ...ADAPTER_REFUSED.map(([, spec]) => ({ code: importing(spec), filePath: ADAPTER_FILE })),
  { code: importing('@aws-sdk/client-sqs'), filePath: ADAPTER_FILE },
  { code: DOMAIN_ALLOWED, filePath: DOMAIN_FILE },
];

let results: string[][] = [];
/** The boundary messages of the sample with this code and path. */
const errorsOf = (code: string, filePath: string): string[] => {
  const at = SAMPLES.findIndex((s) => s.code === code && s.filePath === filePath);
  if (at < 0 || results[at] === undefined) throw new Error(`no lint result for ${filePath}`);
  return results[at];
};

beforeAll(async () => {
  results = await lintAll(SAMPLES);
}, 60_000);

describe('layer boundaries (eslint no-restricted-imports)', () => {
  it('refuses a domain file importing @aws-sdk/client-sqs, and says where SDK code goes', () => {
    // Act
    const errors = errorsOf(importing('@aws-sdk/client-sqs'), DOMAIN_FILE);

    // Assess
    expect(errors).toEqual([expect.stringContaining("'@aws-sdk/client-sqs'")]);
    expect(errors[0]).toContain('src/adapters/<tech>/');
  });

  it.each(DOMAIN_REFUSED)('refuses a domain file importing %s (%s)', (_what, specifier) => {
    // Act
    const errors = errorsOf(importing(specifier), DOMAIN_FILE);

    // Assess
    expect(errors).toEqual([expect.stringContaining(`'${specifier}'`)]);
  });

  it('allows the same SDK import in an adapter', () => {
    // Act
    const errors = errorsOf(importing('@aws-sdk/client-sqs'), ADAPTER_FILE);

    // Assess
    expect(errors).toEqual([]);
  });

  it.each(ADAPTER_REFUSED)('refuses an adapter importing %s (%s)', (_what, specifier) => {
    // Act
    const errors = errorsOf(importing(specifier), ADAPTER_FILE);

    // Assess
    expect(errors).toEqual([expect.stringContaining(`'${specifier}'`)]);
  });

  it('allows the domain its own ports and node built-ins other than the file system', () => {
    // Act
    const errors = errorsOf(DOMAIN_ALLOWED, DOMAIN_FILE);

    // Assess
    expect(errors).toEqual([]);
  });
});
