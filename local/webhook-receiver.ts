import { createServer, type Server } from 'node:http';
import { closeServer, listen } from './net';

/** A message the local "chat" received. */
export interface ChatPost {
  readonly path: string;
  readonly body: unknown;
  readonly at: Date;
}

/** A running local webhook receiver. */
export interface WebhookReceiver {
  /** The robot webhook URL to configure (POST here as to qyapi.weixin.qq.com). */
  readonly url: string;
  readonly received: readonly ChatPost[];
  close(): Promise<void>;
}

/**
 * Stands in for WeCom's group robot webhook: answers `{"errcode":0}` like WeCom and hands every
 * message to `onMessage` (npm start prints what the chat would show).
 */
export async function startWebhookReceiver(
  options: { host?: string; port?: number; onMessage?: (post: ChatPost) => void } = {},
): Promise<WebhookReceiver> {
  const host = options.host ?? '127.0.0.1';
  const received: ChatPost[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ errcode: 40008, errmsg: 'invalid message type' }));
      }
      const post = { path: req.url ?? '/', body, at: new Date() };
      received.push(post);
      options.onMessage?.(post);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  const port = await listen(server, host, options.port);
  return {
    url: `http://${host}:${port}/cgi-bin/webhook/send?key=local`,
    received,
    close: () => closeServer(server),
  };
}
