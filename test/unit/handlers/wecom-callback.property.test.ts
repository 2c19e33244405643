import fc from 'fast-check';
import { createWecomCallbackHandler } from '../../../lambdas/http/wecom-callback';
import { wecomKeysOf } from '../../../lambdas/config/wecom-config';
import { DEV_WECOM } from '../../../local/wecom-dev';
import { silentLog } from '../../../src/ports/log';
import { MemoryTaskStore } from '../../support/memory-task-store';
import { signature } from '../../../src/wecom/crypto';
import { rawEncrypt, wecomPlaintext } from '../../support/wecom';

const NOW = new Date('2026-11-22T00:00:00Z');
const TS = String(NOW.getTime() / 1000);

function handlerUnderTest() {
  const tasks = new MemoryTaskStore();
  const enqueued: string[] = [];
  const handler = createWecomCallbackHandler({
    keys: () => Promise.resolve(wecomKeysOf(DEV_WECOM, 'test')),
    submit: {
      tasks,
      queue: { enqueue: async (m) => void enqueued.push(m.taskId) },
      clock: { now: () => NOW },
      log: silentLog,
      args: { servers: ['local'], defaultServer: 'local' },
    },
    commands: { servers: ['local'], defaultServer: 'local' },
    log: silentLog,
    clock: { now: () => NOW },
  });
  return { handler, tasks, enqueued };
}

const event = (method: 'GET' | 'POST', rawQueryString: string, body?: string) => ({
  routeKey: `${method} /wecom/callback`,
  rawQueryString,
  headers: {},
  ...(body === undefined ? {} : { body }),
  isBase64Encoded: false,
});

describe('WeCom callback under random input', () => {
  it('never answers 5xx to random bodies and query strings', async () => {
    const { handler } = handlerUnderTest();
    const query = fc.oneof(
      fc.string(),
      fc
        .record({
          msg_signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{40}$/), fc.string()),
          timestamp: fc.oneof(fc.constant(TS), fc.string(), fc.nat().map(String)),
          nonce: fc.string(),
          echostr: fc.oneof(fc.base64String(), fc.string()),
        })
        .map((q) => new URLSearchParams(q).toString()),
    );
    const body = fc.oneof(
      fc.string(),
      fc.string().map((s) => `<xml><Encrypt><![CDATA[${s}]]></Encrypt></xml>`),
      fc.base64String().map((s) => `<xml><Encrypt>${s}</Encrypt></xml>`),
      fc.base64String().map((s) => JSON.stringify({ encrypt: s })),
      fc.string().map((s) => `<!DOCTYPE x [<!ENTITY e "${s}">]><xml>&e;</xml>`),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
        query,
        body,
        async (method, q, b) => {
          const res = await handler(event(method, q, b));
          expect(res.statusCode).toBeLessThan(500);
          if (res.statusCode >= 400) {
            expect(JSON.parse(res.body)).toEqual({
              error: { code: expect.any(String), message: expect.any(String) },
            });
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never answers 5xx to correctly signed ciphertexts of random plaintexts', async () => {
    const { handler, enqueued } = handlerUnderTest();
    const plaintexts = fc.oneof(
      fc.string(),
      fc
        .string()
        .map(
          (s) =>
            `<xml><MsgType>text</MsgType><FromUserName>u</FromUserName><Content>${s}</Content><MsgId>1</MsgId></xml>`,
        ),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(plaintexts, fc.boolean(), async (plain, rightId) => {
        const encrypt = rawEncrypt(
          DEV_WECOM,
          wecomPlaintext(plain, rightId ? DEV_WECOM.corpId : 'other'),
        );
        const sig = signature(DEV_WECOM.token, TS, 'n', encrypt);
        const res = await handler(
          event(
            'POST',
            `msg_signature=${sig}&timestamp=${TS}&nonce=n`,
            `<xml><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
          ),
        );
        expect(res.statusCode).toBeLessThan(500);
      }),
      { numRuns: 1000 },
    );
    // Random command texts do produce tasks (download <word>, logic <words>) — but only valid ones.
    expect(enqueued.every((id) => /^t_[a-z2-7]{20}$/.test(id))).toBe(true);
  });
});
