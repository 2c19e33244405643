import { openCallback, signature, verifyUrl } from '../../../src/wecom';
import { CORP_ID, TOKEN, cipher, codeOf } from './helpers';

const keys = { cipher, token: TOKEN };
const TS = '1700000000';
const NONCE = '42';

const signedQuery = (encrypt: string) => ({
  msgSignature: signature(TOKEN, TS, NONCE, encrypt),
  timestamp: TS,
  nonce: NONCE,
});

describe('verifyUrl', () => {
  it('returns the echostr plaintext when the signature matches', () => {
    // Prepare
    const echostr = cipher.encrypt('7139691598513686239');

    // Act
    const plain = verifyUrl(keys, { ...signedQuery(echostr), echostr });

    // Assess
    expect(plain).toBe('7139691598513686239');
  });

  it('bad_signature: a "+" turned into a space by a form-style query parser', () => {
    // Prepare: find an echostr with a '+' in it
    let echostr = cipher.encrypt('1');
    while (!echostr.includes('+')) echostr = cipher.encrypt('1');
    const query = signedQuery(echostr);

    // Act / Assess
    expect(codeOf(() => verifyUrl(keys, { ...query, echostr: echostr.replace(/\+/g, ' ') }))).toBe(
      'bad_signature',
    );
  });
});

describe('openCallback', () => {
  const message =
    '<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>';

  it('parses, verifies and decrypts a signed XML body', () => {
    // Prepare
    const encrypt = cipher.encrypt(message);
    const body = `<xml><ToUserName><![CDATA[${CORP_ID}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;

    // Act
    const opened = openCallback(keys, signedQuery(encrypt), body);

    // Assess
    expect(opened).toEqual({
      envelope: { format: 'xml', encrypt, toUserName: CORP_ID },
      message,
      receiveId: CORP_ID,
    });
  });

  it('checks the signature before decrypting: a tampered ciphertext is bad_signature, never a padding error', () => {
    // Prepare: flip a byte of the last block, which would break the padding
    const encrypt = cipher.encrypt(message);
    const query = signedQuery(encrypt);
    const bytes = Buffer.from(encrypt, 'base64');
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0xff;
    const tampered = bytes.toString('base64');

    // Act / Assess
    expect(codeOf(() => openCallback(keys, query, `{"encrypt":"${tampered}"}`))).toBe(
      'bad_signature',
    );
  });

  it('bad_signature: a signature made with another token', () => {
    // Prepare
    const encrypt = cipher.encrypt(message);
    const query = { ...signedQuery(encrypt), msgSignature: signature('x', TS, NONCE, encrypt) };

    // Act / Assess
    expect(codeOf(() => openCallback(keys, query, `{"encrypt":"${encrypt}"}`))).toBe(
      'bad_signature',
    );
  });

  it('refuses a body without Encrypt before looking at the signature', () => {
    // Prepare / Act / Assess
    expect(codeOf(() => openCallback(keys, signedQuery(''), '<xml></xml>'))).toBe('missing_field');
  });
});
