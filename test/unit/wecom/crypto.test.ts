import { createDecipheriv } from 'node:crypto';
import {
  assertSignature,
  buildPassiveReply,
  createWecomCipher,
  parseEnvelope,
  signature,
  verifySignature,
  WecomConfigError,
  WECOM_PAD_BLOCK,
} from '../../../src/wecom';
import { AES_KEY, CORP_ID, TOKEN, cipher, codeOf, pad, plaintext, rawEncrypt } from './helpers';

/** Decrypts without touching the padding, to see which pad encrypt() chose. */
function rawDecrypt(encrypt: string): Buffer {
  const key = Buffer.from(`${AES_KEY}=`, 'base64');
  const aes = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  aes.setAutoPadding(false);
  return Buffer.concat([aes.update(Buffer.from(encrypt, 'base64')), aes.final()]);
}

describe('signature', () => {
  const args = [TOKEN, '1409659813', '1372623149', 'cipher+text/=='] as const;

  it('is the sha1 of the sorted concatenation, independent of argument order', () => {
    // Prepare
    const [token, ts, nonce, enc] = args;

    // Act
    const a = signature(token, ts, nonce, enc);
    const b = signature(enc, nonce, token, ts);

    // Assess
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(a).toBe(b);
  });

  it('accepts the right signature in either hex case', () => {
    // Prepare
    const sig = signature(...args);

    // Act / Assess
    expect(verifySignature(...args, sig)).toBe(true);
    expect(verifySignature(...args, sig.toUpperCase())).toBe(true);
  });

  it.each([
    ['one changed character', (s: string) => (s[0] === 'a' ? 'b' : 'a') + s.slice(1)],
    ['too short', (s: string) => s.slice(0, 39)],
    ['too long', (s: string) => `${s}0`],
    ['empty', () => ''],
    ['multi-byte, same UTF-16 length', (s: string) => `é${s.slice(1)}`],
  ])('rejects a signature that is %s', (_what, mutate) => {
    // Prepare
    const bad = mutate(signature(...args));

    // Act
    const ok = verifySignature(...args, bad);

    // Assess
    expect(ok).toBe(false);
    expect(codeOf(() => assertSignature(...args, bad))).toBe('bad_signature');
  });

  it('rejects a signature made with another token', () => {
    // Prepare
    const other = signature('other', args[1], args[2], args[3]);

    // Act / Assess
    expect(verifySignature(...args, other)).toBe(false);
  });
});

describe('createWecomCipher configuration', () => {
  it.each([
    ['42 characters', AES_KEY.slice(0, 42)],
    ['44 characters', `${AES_KEY}A`],
    ['a non-base64 character', `${AES_KEY.slice(0, 42)}!`],
    ['base64url characters', `${AES_KEY.slice(0, 41)}-_`],
    ['empty', ''],
  ])('throws WecomConfigError for a key of %s', (_what, key) => {
    // Prepare / Act
    const act = () => createWecomCipher({ encodingAesKey: key, receiveId: CORP_ID });

    // Assess
    expect(act).toThrow(WecomConfigError);
    expect(act).toThrow(/EncodingAESKey/);
  });

  it('ignores whitespace around the key (env files and secrets often end in a newline)', () => {
    // Prepare
    const padded = createWecomCipher({ encodingAesKey: ` ${AES_KEY}\n`, receiveId: CORP_ID });

    // Act
    const enc = cipher.encrypt('hi');

    // Assess
    expect(padded.decrypt(enc).message).toBe('hi');
  });

  it('refuses skipReceiveIdCheck together with a configured receiveId', () => {
    // Prepare / Act
    const act = () =>
      createWecomCipher({ encodingAesKey: AES_KEY, receiveId: CORP_ID, skipReceiveIdCheck: true });

    // Assess
    expect(act).toThrow(WecomConfigError);
  });

  it('refuses a random prefix that is not 16 bytes as a programming error', () => {
    // Prepare / Act
    const act = () => cipher.encrypt('x', Buffer.alloc(15));

    // Assess
    expect(act).toThrow(RangeError);
  });
});

describe('encrypt → decrypt round trip', () => {
  // Plaintext = 16 + 4 + message + receiveId(18); choose message lengths giving each pad.
  const fixed = 16 + 4 + Buffer.byteLength(CORP_ID);
  const cases = Array.from({ length: WECOM_PAD_BLOCK }, (_, i) => {
    const padLength = i + 1;
    const messageLength = (((WECOM_PAD_BLOCK - padLength - fixed) % 32) + 32) % 32;
    return [padLength, messageLength + 32 * (i % 3)] as const;
  });

  it.each(cases)('pads with %i bytes (message of %i bytes) and decrypts back', (padLength, n) => {
    // Prepare
    const message = 'x'.repeat(n);

    // Act
    const enc = cipher.encrypt(message);
    const raw = rawDecrypt(enc);
    const out = cipher.decrypt(enc);

    // Assess
    expect(raw.length % WECOM_PAD_BLOCK).toBe(0);
    expect(raw[raw.length - 1]).toBe(padLength);
    expect(out.message).toBe(message);
    expect(out.receiveId).toBe(CORP_ID);
  });

  it.each([
    ['Chinese', '下载 12345 服务器一'],
    ['emoji and CJK mixed with XML', '<xml><Content><![CDATA[你好 👋 世界]]></Content></xml>'],
    ['the empty message', ''],
    ['a long message', '中'.repeat(5000)],
  ])('keeps %s byte for byte', (_what, message) => {
    // Prepare / Act
    const out = cipher.decrypt(cipher.encrypt(message));

    // Assess
    expect(Buffer.from(out.message, 'utf8').equals(Buffer.from(message, 'utf8'))).toBe(true);
  });

  it('uses a fresh random prefix, so equal messages encrypt differently', () => {
    // Prepare / Act
    const a = cipher.encrypt('same');
    const b = cipher.encrypt('same');

    // Assess
    expect(a).not.toBe(b);
    expect(cipher.decrypt(a).random.equals(cipher.decrypt(b).random)).toBe(false);
  });

  it('decrypts any receive id when skipping the check with an empty receiveId (bots)', () => {
    // Prepare
    const bot = createWecomCipher({
      encodingAesKey: AES_KEY,
      receiveId: '',
      skipReceiveIdCheck: true,
    });

    // Act
    const out = bot.decrypt(cipher.encrypt('hello'));

    // Assess
    expect(out).toMatchObject({ message: 'hello', receiveId: CORP_ID });
  });

  it('accepts an empty receive id when configured empty (smart-bot callbacks)', () => {
    // Prepare
    const bot = createWecomCipher({ encodingAesKey: AES_KEY, receiveId: '' });

    // Act
    const out = bot.decrypt(bot.encrypt('hello'));

    // Assess
    expect(out).toMatchObject({ message: 'hello', receiveId: '' });
  });
});

describe('decrypt refuses bad ciphertexts', () => {
  it.each([
    ['a non-base64 character', 'abc$defg'],
    ['a line break', 'YWJj\nZGVm'],
    ['missing padding', 'YWJjZA'],
    ['padding only', '===='],
    ['padding in the middle', 'YQ==YWJj'],
    ['base64url alphabet', 'ab-_'],
    ['non-zero trailing bits (non-canonical)', 'YR=='],
    ['surrounding spaces', ' YWJj '],
  ])('bad_base64: %s', (_what, input) => {
    // Prepare / Act / Assess
    expect(codeOf(() => cipher.decrypt(input))).toBe('bad_base64');
  });

  it.each([
    ['empty', ''],
    ['3 bytes', 'YWJj'],
    ['15 bytes', Buffer.alloc(15).toString('base64')],
    ['17 bytes', Buffer.alloc(17).toString('base64')],
    ['33 bytes', Buffer.alloc(33).toString('base64')],
  ])('bad_length: ciphertext of %s is not a positive multiple of 16', (_what, input) => {
    // Prepare / Act / Assess
    expect(codeOf(() => cipher.decrypt(input))).toBe('bad_length');
  });

  it('bad_length: plaintext shorter than the 20-byte header', () => {
    // Prepare: 16 random bytes, then a full 16-byte pad block.
    const enc = rawEncrypt(Buffer.concat([Buffer.alloc(16, 1), Buffer.alloc(16, 16)]));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_length');
  });

  it.each([
    ['just past the end', 1],
    ['far past the end', 1_000_000],
    ['0xFFFFFFFF', 0xffffffff],
  ])('bad_length: message length field overruns the plaintext (%s)', (_what, extra) => {
    // Prepare
    const message = Buffer.from('hello');
    const field = Math.min(message.length + Buffer.byteLength(CORP_ID) + extra, 0xffffffff);
    const enc = rawEncrypt(pad(plaintext(message, CORP_ID, field)));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_length');
  });

  it.each([
    ['pad byte 0', (p: Buffer) => pad(p, 0)],
    ['pad byte 33', (p: Buffer) => pad(p, 33)],
    ['pad byte 255', (p: Buffer) => pad(p, 255)],
    [
      'inconsistent pad bytes',
      (p: Buffer) => {
        const padded = pad(p);
        padded[padded.length - 2] = (padded[padded.length - 1] ?? 0) - 1;
        return padded;
      },
    ],
    [
      'a pad longer than the data',
      () => Buffer.alloc(16, 32), // 16 bytes that all say "32"
    ],
  ])('bad_padding: %s', (_what, build) => {
    // Prepare: a plaintext whose pad is 2+ bytes long, so one byte can be made inconsistent.
    const p = plaintext(Buffer.from('hello-world!'));
    const enc = rawEncrypt(build(p));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_padding');
  });

  it('bad_padding: a ciphertext under another key', () => {
    // Prepare: almost surely garbage padding under the wrong key
    const other = createWecomCipher({
      encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      receiveId: CORP_ID,
    });
    const enc = other.encrypt('hello', Buffer.alloc(16, 3));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_padding');
  });

  it('bad_receive_id: encrypted for another corp', () => {
    // Prepare
    const other = createWecomCipher({ encodingAesKey: AES_KEY, receiveId: 'ww0000000000000000' });

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(other.encrypt('hello')))).toBe('bad_receive_id');
  });

  it('bad_receive_id: a prefix of the corp id is not the corp id', () => {
    // Prepare
    const enc = rawEncrypt(pad(plaintext(Buffer.from('hi'), CORP_ID.slice(0, -1))));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_receive_id');
  });

  it.each([
    ['message', plaintext(Buffer.from([0x68, 0xff, 0x69]))],
    ['receive id', Buffer.concat([plaintext(Buffer.from('hi'), ''), Buffer.from([0xc3])])],
  ])('bad_utf8: invalid UTF-8 in the %s', (_what, plain) => {
    // Prepare
    const enc = rawEncrypt(pad(plain));

    // Act / Assess
    expect(codeOf(() => cipher.decrypt(enc))).toBe('bad_utf8');
  });
});

describe('buildPassiveReply', () => {
  it('builds a reply WeCom can verify and decrypt', () => {
    // Prepare
    const message =
      '<xml><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[好的]]></Content></xml>';

    // Act
    const reply = buildPassiveReply({
      cipher,
      token: TOKEN,
      message,
      timestamp: '1700000000',
      nonce: 'n0nce',
    });
    const envelope = parseEnvelope(reply);
    const sig =
      /<MsgSignature><!\[CDATA\[([0-9a-f]{40})\]\]><\/MsgSignature>/.exec(reply)?.[1] ?? '';

    // Assess
    expect(reply).toMatch(/^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt>/);
    expect(reply).toContain(
      '<TimeStamp>1700000000</TimeStamp><Nonce><![CDATA[n0nce]]></Nonce></xml>',
    );
    expect(verifySignature(TOKEN, '1700000000', 'n0nce', envelope.encrypt, sig)).toBe(true);
    expect(cipher.decrypt(envelope.encrypt).message).toBe(message);
  });

  it.each([
    ['timestamp', { timestamp: '17e9', nonce: 'abc' }],
    ['timestamp', { timestamp: '', nonce: 'abc' }],
    ['nonce', { timestamp: '1', nonce: ']]><x/>' }],
    ['nonce', { timestamp: '1', nonce: '' }],
  ])('bad_field: refuses an unsafe %s', (_what, params) => {
    // Prepare / Act / Assess
    expect(codeOf(() => buildPassiveReply({ cipher, token: TOKEN, message: 'x', ...params }))).toBe(
      'bad_field',
    );
  });
});
