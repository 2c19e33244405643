/**
 * The zod every schema reachable from a Lambda entry uses: `zod/mini` with zod's English
 * messages. Mini builds the same schemas as classic zod from functions (`z.optional(s)`,
 * `s.check(z.minLength(1))`) instead of chained methods, so esbuild keeps only the functions a
 * bundle calls: a few KB instead of classic zod's ~445 KB (bench/sections/bundles.ts). Import it
 * as `import * as z from '…/validation/zod'`; tests and scripts may use classic zod, whose
 * schemas every helper here accepts as well (both are zod core schemas).
 *
 * Classic zod registers its English messages on first use; mini leaves the locale to the app,
 * and would answer a client "Invalid input" where classic says "Invalid input: expected
 * string, received number". Loading the English locale here (a few KB) keeps every message a
 * client, an operator or a test sees the same as classic zod's.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

if (!config().localeError) config(en());

export * from 'zod/mini';
