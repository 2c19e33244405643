/**
 * Properties: whatever arrives, the WeCom domain answers with a WecomError (a 4xx later) and
 * never with a TypeError, RangeError or any other crash (a 5xx); parseCommand never throws.
 */
import fc from 'fast-check';
import {
  createWecomCipher,
  parseCommand,
  parseEnvelope,
  parseMessage,
  WECOM_ERROR_CODES,
  WecomError,
  type CommandOptions,
} from '../../../src/wecom';
import { AES_KEY, CORP_ID, cipher, onlyWecomErrors, rawEncrypt } from './helpers';

const RUNS = { numRuns: 300 };

/** Any text, including lone surrogates and control characters. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
);

/** Fragments of WeCom XML and JSON, so inputs often get deep into the parsers. */
const fragment = fc.oneof(
  fc.constantFrom(
    '<xml>',
    '</xml>',
    '<Encrypt>',
    '</Encrypt>',
    '<MsgType>',
    '</MsgType>',
    'text',
    'event',
    '<Content>',
    '</Content>',
    '<FromUserName>',
    '</FromUserName>',
    '<MsgId>',
    '</MsgId>',
    '<CreateTime>',
    '</CreateTime>',
    '<Event>',
    '</Event>',
    '<EventType>',
    '</EventType>',
    '<From><UserId>',
    '</UserId></From>',
    '<Text><Content>',
    '</Content></Text>',
    '<WebhookUrl>',
    '</WebhookUrl>',
    '<![CDATA[',
    ']]>',
    '<!--',
    '-->',
    '<!DOCTYPE x>',
    '<!ENTITY a "b">',
    '&amp;',
    '&#x',
    '&#1114112;',
    '&lt;',
    '<__proto__>',
    '<constructor>',
    '<?xml version="1.0"?>',
    '{',
    '}',
    '[',
    ']',
    '"encrypt":',
    '"msgtype":',
    '"MsgType":',
    '"from":',
    '"userid":',
    '"text":',
    '"content":',
    '"msgid":',
    '"__proto__":',
    ',',
    ':',
    '"',
    '12345678901234567890',
    '-1',
    '1e999',
    'null',
    'true',
    '\uFEFF',
    ' ',
    '\u3000',
  ),
  fc.string({ maxLength: 8 }),
);
const soup = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

/** Field names of every message shape (XML spelling; JSON is matched case-insensitively). */
const FIELDS = [
  'ToUserName',
  'FromUserName',
  'CreateTime',
  'MsgType',
  'Content',
  'MsgId',
  'AgentID',
  'Event',
  'EventType',
  'EventKey',
  'WebhookUrl',
  'ChatId',
  'ChatType',
  'From',
  'UserId',
  'Text',
  'response_url',
  'Encrypt',
] as const;
const fieldName = fc.constantFrom(...FIELDS);
const leafText = fc.oneof(
  fc.constantFrom(
    'text',
    'event',
    'image',
    '',
    ' ',
    '123',
    '12345678901234567890',
    'http://x/y',
    'file:///z',
  ),
  fc.string({ maxLength: 12 }),
);
const escapeXml = (t: string) =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Well-formed WeCom-like XML with random fields, values and nesting. */
const { element: xmlElement } = fc.letrec<{ element: string }>((tie) => ({
  element: fc
    .tuple(
      fieldName,
      fc.oneof(
        { depthSize: 'small' },
        leafText.map(escapeXml),
        leafText.map((t) => `<![CDATA[${t.replace(/]]>/g, '')}]]>`),
        fc.array(tie('element'), { maxLength: 3 }).map((children) => children.join('')),
      ),
    )
    .map(([tag, inner]) => `<${tag}>${inner}</${tag}>`),
}));
const xmlDocument = fc
  .array(xmlElement, { maxLength: 8 })
  .map((elements) => `<xml>${elements.join('\n')}</xml>`);

/** Well-formed JSON objects with WeCom-like keys (any case) and random values. */
const jsonDocument = fc
  .dictionary(
    fc.oneof(
      fieldName,
      fieldName.map((f) => f.toLowerCase()),
    ),
    fc.oneof(leafText, fc.jsonValue({ maxDepth: 2 })),
    { maxKeys: 8 },
  )
  .map((o) => JSON.stringify(o));

/** Messages with the required fields present, so the schema and normalisation run. */
const nearlyValid = fc
  .tuple(fc.constantFrom('text', 'event', 'image'), fc.array(xmlElement, { maxLength: 4 }))
  .map(
    ([type, extra]) =>
      `<xml><MsgType>${type}</MsgType><FromUserName>u</FromUserName><CreateTime>1</CreateTime>${extra.join('')}</xml>`,
  );

/** Inputs that often get deep into the parsers and schema. */
const structured = fc.oneof(soup, xmlDocument, jsonDocument, nearlyValid);

const expectWecomErrorCode = (fn: () => unknown): void => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof WecomError)) throw e;
    expect(WECOM_ERROR_CODES).toContain(e.code);
  }
};

describe('properties: only WecomError escapes', () => {
  it('parseEnvelope on arbitrary and XML/JSON-like strings', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.oneof(anyText, structured), (body) => {
        expectWecomErrorCode(() => parseEnvelope(body));
      }),
      RUNS,
    );
  });

  it('parseEnvelope on arbitrary bytes', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        onlyWecomErrors(() => parseEnvelope(bytes));
      }),
      RUNS,
    );
  });

  it('parseMessage on arbitrary and XML/JSON-like strings', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.oneof(anyText, structured), (plain) => {
        expectWecomErrorCode(() => parseMessage(plain));
      }),
      RUNS,
    );
  });

  it('decrypt on arbitrary strings and on base64 of arbitrary bytes', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(
        fc.oneof(
          anyText,
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('base64')),
        ),
        (text) => {
          onlyWecomErrors(() => cipher.decrypt(text));
        },
      ),
      RUNS,
    );
  });

  it('decrypt on well-formed ciphertexts of arbitrary plaintext blocks', () => {
    // Prepare: valid AES under our key, random content: exercises padding and length checks.
    const blocks = fc
      .integer({ min: 1, max: 8 })
      .chain((n) => fc.uint8Array({ minLength: 16 * n, maxLength: 16 * n }));

    // Act / Assess
    fc.assert(
      fc.property(blocks, (plain) => {
        onlyWecomErrors(() => cipher.decrypt(rawEncrypt(plain)));
      }),
      RUNS,
    );
  });

  it('decrypt + parseMessage on authentic ciphertexts of arbitrary messages', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.oneof(anyText, structured), (message) => {
        onlyWecomErrors(() => parseMessage(cipher.decrypt(cipher.encrypt(message)).message));
      }),
      RUNS,
    );
  });

  it('parseEnvelope + decrypt + parseMessage chained on arbitrary bodies', () => {
    // Prepare
    const bot = createWecomCipher({ encodingAesKey: AES_KEY, receiveId: '' });

    // Act / Assess
    fc.assert(
      fc.property(fc.oneof(anyText, structured), (body) => {
        onlyWecomErrors(() => parseMessage(bot.decrypt(parseEnvelope(body).encrypt).message));
      }),
      RUNS,
    );
  });
});

describe('properties: round trip', () => {
  it('encrypt → decrypt returns every well-formed string unchanged', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 500 }), (message) => {
        const out = cipher.decrypt(cipher.encrypt(message));
        expect(out.message).toBe(message);
        expect(out.receiveId).toBe(CORP_ID);
      }),
      RUNS,
    );
  });
});

describe('properties: parseCommand never throws', () => {
  const opts: CommandOptions = { servers: ['cn', 'us'], defaultServer: 'cn' };
  const words = fc.constantFrom(
    'download',
    'DOWNLOAD',
    '下载',
    'logic',
    '分析',
    'status',
    '状态',
    'help',
    '帮助',
    'cn',
    'US',
    '12345',
    '@bot',
    'constructor',
    '__proto__',
    'toString',
    '\u3000',
    ' ',
  );
  const commandish = fc
    .array(fc.oneof(words, fc.string({ maxLength: 6 })), { maxLength: 8 })
    .map((parts) => parts.join(' '));
  const kinds = ['task', 'status', 'help', 'error'];

  it('on arbitrary text', () => {
    // Prepare / Act / Assess
    fc.assert(
      fc.property(fc.oneof(anyText, commandish), (text) => {
        expect(kinds).toContain(parseCommand(text, opts).kind);
      }),
      RUNS,
    );
  });

  it('with arbitrary alias maps and server lists', () => {
    // Prepare
    const options = fc.record({
      servers: fc.array(fc.oneof(fc.string({ maxLength: 6 }), words), { maxLength: 4 }),
      defaultServer: fc.string({ maxLength: 6 }),
      aliases: fc.dictionary(
        fc.oneof(fc.string({ maxLength: 4 }), words),
        fc.oneof(words, fc.string()),
      ),
    });

    // Act / Assess
    fc.assert(
      fc.property(commandish, options, (text, o) => {
        expect(kinds).toContain(parseCommand(text, o).kind);
      }),
      RUNS,
    );
  });
});
