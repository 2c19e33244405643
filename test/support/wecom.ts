import { createCipheriv } from 'node:crypto';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WecomSettings } from '../../lambdas/config/wecom-config';
import { LOCAL_TABLES } from '../../local/tables';
import { signature } from '../../src/wecom/crypto';
import { scanTable } from './table';

/** Encrypts raw plaintext bytes (no padding added) with a settings' key: for malformed bodies. */
export function rawEncrypt(settings: WecomSettings, plain: Buffer): string {
  const key = Buffer.from(`${settings.encodingAesKey}=`, 'base64');
  const aes = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  aes.setAutoPadding(false);
  return Buffer.concat([aes.update(plain), aes.final()]).toString('base64');
}

/** random(16) | length(4) | message | receiveId, padded to 32 with PKCS#7 (or a given pad). */
export function wecomPlaintext(message: string, receiveId: string, padByte?: number): Buffer {
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const body = Buffer.concat([Buffer.alloc(16, 1), len, msg, Buffer.from(receiveId)]);
  const n = 32 - (body.length % 32);
  return Buffer.concat([body, Buffer.alloc(n, padByte ?? n)]);
}

/** A signed callback request around any Encrypt value and body template. */
export function signedRequest(
  settings: WecomSettings,
  encrypt: string,
  options: { timestamp?: string; body?: (encrypt: string) => string } = {},
) {
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
  const nonce = 'n0nce';
  const query = new URLSearchParams({
    msg_signature: signature(settings.token, timestamp, nonce, encrypt),
    timestamp,
    nonce,
  }).toString();
  const body = options.body
    ? options.body(encrypt)
    : `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
  return { query, body };
}

/** Messages waiting in a queue (visible + in flight). */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Every task item (tests only: proves that bad input wrote nothing). */
export const allTasks = (endpoint: string) => scanTable(endpoint, LOCAL_TABLES.tasks);
