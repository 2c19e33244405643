/**
 * Loads the WeCom known-answer vectors (test/fixtures/wecom-vectors.json, a copy of the
 * contract's public vectors; see test/fixtures/README.md for their sources) and checks their
 * shape, so a change to the file fails loudly here rather than as odd test results.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const base = z.object({
  name: z.string(),
  token: z.string(),
  encodingAESKey: z.string(),
  receiveId: z.string(),
  expectedPlaintext: z.string(),
  source: z.string(),
  note: z.string().optional(),
  msgSignature: z.string().optional(),
  timestamp: z.string().optional(),
  nonce: z.string().optional(),
  // false marks the two vectors whose published signature belongs to another ciphertext.
  signatureMatches: z.boolean().optional(),
});

const vectorSchema = z.discriminatedUnion('kind', [
  base.extend({
    kind: z.literal('verifyurl'),
    msgSignature: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    echostr: z.string(),
    echostrUrlEncoded: z.string().optional(),
  }),
  base.extend({
    kind: z.literal('decrypt'),
    msgSignature: z.string(),
    timestamp: z.string(),
    nonce: z.string(),
    encrypt: z.string(),
    postBody: z.string().optional(),
    expectedRandom: z.string().optional(),
  }),
  base.extend({
    kind: z.literal('encrypt'),
    // 16 ASCII characters, used as the 16 random bytes verbatim.
    random: z.string(),
    message: z.string(),
    encrypt: z.string(),
  }),
]);

/** One vector from the fixture. */
export type WecomVector = z.infer<typeof vectorSchema>;

/** All vectors, validated. */
export const VECTORS: readonly WecomVector[] = z
  .array(vectorSchema)
  .parse(
    JSON.parse(readFileSync(path.resolve(__dirname, '../../fixtures/wecom-vectors.json'), 'utf8')),
  );

/** Vectors of one kind, typed. */
export const vectorsOf = <K extends WecomVector['kind']>(
  kind: K,
): Extract<WecomVector, { kind: K }>[] =>
  VECTORS.filter((v): v is Extract<WecomVector, { kind: K }> => v.kind === kind);
