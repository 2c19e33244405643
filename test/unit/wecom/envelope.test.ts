import { MAX_BODY_BYTES, parseEnvelope } from '../../../src/wecom';
import { codeOf } from './helpers';

const ENC = 'YWJjZGVmZ2hpamtsbW5vcA==';

describe('parseEnvelope: accepted shapes', () => {
  it('reads the XML envelope with ToUserName and AgentID', () => {
    // Prepare
    const body = `<xml><ToUserName><![CDATA[wx58]]></ToUserName><Encrypt><![CDATA[${ENC}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>`;

    // Act
    const env = parseEnvelope(body);

    // Assess
    expect(env).toEqual({ format: 'xml', encrypt: ENC, toUserName: 'wx58', agentId: '218' });
  });

  it('reads pretty-printed XML with an XML declaration and no CDATA', () => {
    // Prepare
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<xml>\n  <Encrypt>${ENC}</Encrypt>\n</xml>\n`;

    // Act
    const env = parseEnvelope(body);

    // Assess
    expect(env).toEqual({ format: 'xml', encrypt: ENC });
  });

  it('reads the JSON envelope of bot callbacks (lower-case keys, numeric agentid)', () => {
    // Prepare
    const body = JSON.stringify({ tousername: 'wx58', encrypt: ENC, agentid: 218 });

    // Act
    const env = parseEnvelope(body);

    // Assess
    expect(env).toEqual({ format: 'json', encrypt: ENC, toUserName: 'wx58', agentId: '218' });
  });

  it('reads the JSON envelope with only {"encrypt"} and with PascalCase keys', () => {
    // Prepare / Act
    const a = parseEnvelope(`{"encrypt":"${ENC}"}`);
    const b = parseEnvelope(`{"Encrypt":"${ENC}","ToUserName":"x"}`);

    // Assess
    expect(a).toEqual({ format: 'json', encrypt: ENC });
    expect(b).toEqual({ format: 'json', encrypt: ENC, toUserName: 'x' });
  });

  it('accepts UTF-8 bytes, a byte-order mark and surrounding whitespace', () => {
    // Prepare
    const body = Buffer.from(`\uFEFF \n<xml><Encrypt>${ENC}</Encrypt></xml>\n`, 'utf8');

    // Act
    const env = parseEnvelope(body);

    // Assess
    expect(env.encrypt).toBe(ENC);
  });

  it('accepts a body of exactly MAX_BODY_BYTES', () => {
    // Prepare
    const head = `<xml><Encrypt>${ENC}</Encrypt>`;
    const body = `${head}${' '.repeat(MAX_BODY_BYTES - head.length - '</xml>'.length)}</xml>`;

    // Act
    const env = parseEnvelope(body);

    // Assess
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect(env.encrypt).toBe(ENC);
  });
});

describe('parseEnvelope: refused bodies', () => {
  it.each([
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><Encrypt>&lol2;</Encrypt></xml>',
    ],
    [
      'external entity',
      '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><Encrypt>&xxe;</Encrypt></xml>',
    ],
    ['lower-case doctype', '<!doctype xml><xml><Encrypt>x</Encrypt></xml>'],
    ['spaced declaration', '<xml><! ENTITY x "y"><Encrypt>x</Encrypt></xml>'],
    ['entity after a comment', '<!-- hi --><!ENTITY x "y"><xml><Encrypt>x</Encrypt></xml>'],
  ])('bad_xml: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_xml');
  });

  it.each([
    ['unclosed tag', `<xml><Encrypt>${ENC}</xml>`],
    ['mismatched tags', `<xml><Encrypt>${ENC}</Encryp></xml>`],
    ['another root element', `<root><Encrypt>${ENC}</Encrypt></root>`],
    ['two root elements', `<xml><Encrypt>${ENC}</Encrypt></xml><xml/>`],
    ['a reserved tag name', '<xml><__proto__>x</__proto__></xml>'],
    ['only a declaration', '<?xml version="1.0"?>'],
    ['a lone <', '<'],
  ])('bad_xml: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_xml');
  });

  it('too_large: one byte over MAX_BODY_BYTES', () => {
    // Prepare
    const body = `<xml><Encrypt>${'A'.repeat(MAX_BODY_BYTES)}</Encrypt></xml>`;

    // Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('too_large');
    expect(codeOf(() => parseEnvelope(Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)))).toBe('too_large');
  });

  it('too_large: counts UTF-8 bytes, not UTF-16 characters', () => {
    // Prepare: fewer characters than the cap, but three bytes each
    const body = '中'.repeat(Math.ceil(MAX_BODY_BYTES / 3) + 1);

    // Act / Assess
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(codeOf(() => parseEnvelope(body))).toBe('too_large');
  });

  it.each([
    ['plain text', 'hello'],
    ['the empty body', ''],
    ['whitespace', ' \n\t '],
    ['a form body', `encrypt=${ENC}`],
    ['a JSON string', `"${ENC}"`],
  ])('bad_format: %s is neither XML nor JSON', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_format');
  });

  it.each([
    ['truncated JSON', `{"encrypt":"${ENC}"`],
    ['a trailing comma', `{"encrypt":"${ENC}",}`],
    ['keys differing only in case', `{"encrypt":"a","Encrypt":"b"}`],
  ])('bad_json: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_json');
  });

  it('bad_json: deep nesting', () => {
    // Prepare
    const body = `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`;

    // Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_json');
  });

  it('bad_utf8: bytes that are not UTF-8', () => {
    // Prepare
    const body = Buffer.concat([
      Buffer.from('<xml><Encrypt>'),
      Buffer.from([0xff]),
      Buffer.from('</Encrypt></xml>'),
    ]);

    // Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_utf8');
  });

  it.each([
    ['XML without Encrypt', '<xml><ToUserName>x</ToUserName></xml>'],
    ['XML with an empty Encrypt', '<xml><Encrypt><![CDATA[]]></Encrypt></xml>'],
    ['an empty <xml/>', '<xml/>'],
    ['JSON without encrypt', '{"tousername":"x"}'],
    ['JSON with null encrypt', '{"encrypt":null}'],
    ['JSON with an empty encrypt', '{"encrypt":""}'],
  ])('missing_field: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('missing_field');
  });

  it.each([
    ['a repeated Encrypt', `<xml><Encrypt>${ENC}</Encrypt><Encrypt>${ENC}</Encrypt></xml>`],
    ['Encrypt and encrypt', `<xml><Encrypt>${ENC}</Encrypt><encrypt>${ENC}</encrypt></xml>`],
    ['an Encrypt with elements', '<xml><Encrypt><A>x</A></Encrypt></xml>'],
    ['a numeric JSON encrypt', '{"encrypt":12}'],
    ['an array JSON encrypt', `{"encrypt":["${ENC}"]}`],
    ['an object ToUserName', `{"encrypt":"${ENC}","tousername":{}}`],
  ])('bad_field: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope(body))).toBe('bad_field');
  });

  it('bad_format: a JSON array body (only objects are envelopes)', () => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseEnvelope('[1]'))).toBe('bad_format');
  });
});
