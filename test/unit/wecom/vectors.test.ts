/**
 * Known-answer tests: every public vector in test/fixtures/wecom-vectors.json (official WeCom /
 * WeChat SDK samples and docs) must verify, decrypt and encrypt to the published values, and
 * the two whose published signature belongs to another ciphertext must be rejected.
 */
import {
  assertSignature,
  buildPassiveReply,
  createWecomCipher,
  openCallback,
  parseEnvelope,
  parseMessage,
  signature,
  verifySignature,
  verifyUrl,
  WecomError,
} from '../../../src/wecom';
import { VECTORS, vectorsOf } from './vectors';

const cipherFor = (v: { encodingAESKey: string; receiveId: string }) =>
  createWecomCipher({ encodingAesKey: v.encodingAESKey, receiveId: v.receiveId });

describe('wecom vectors file', () => {
  it('holds the 17 vectors, two of them marked signatureMatches: false', () => {
    // Prepare / Act
    const rejected = VECTORS.filter((v) => v.signatureMatches === false).map((v) => v.name);

    // Assess
    expect(VECTORS).toHaveLength(17);
    expect(rejected.sort()).toEqual([
      'wecom-go-decrypt-json-comment-QDG6eK',
      'wecom-php-decrypt-json-comment-QDG6eK',
    ]);
  });
});

describe.each(vectorsOf('verifyurl').map((v) => [v.name, v] as const))(
  'verifyurl vector %s',
  (_name, v) => {
    it('has the published signature and decrypts echostr to the expected plaintext', () => {
      // Prepare
      const keys = { cipher: cipherFor(v), token: v.token };

      // Act
      const plain = verifyUrl(keys, { ...v, echostr: v.echostr });

      // Assess
      expect(signature(v.token, v.timestamp, v.nonce, v.echostr)).toBe(v.msgSignature);
      expect(verifySignature(v.token, v.timestamp, v.nonce, v.echostr, v.msgSignature)).toBe(true);
      expect(plain).toBe(v.expectedPlaintext);
    });

    if (v.echostrUrlEncoded !== undefined) {
      const encoded = v.echostrUrlEncoded;
      it('gets echostr by URL-decoding the raw query value exactly once', () => {
        // Prepare / Act
        const decoded = decodeURIComponent(encoded);

        // Assess
        expect(decoded).toBe(v.echostr);
      });
    }
  },
);

describe.each(vectorsOf('decrypt').map((v) => [v.name, v] as const))(
  'decrypt vector %s',
  (_name, v) => {
    it('decrypts to the expected plaintext and receive id', () => {
      // Prepare
      const cipher = cipherFor(v);

      // Act
      const out = cipher.decrypt(v.encrypt);

      // Assess
      expect(out.message).toBe(v.expectedPlaintext);
      expect(out.receiveId).toBe(v.receiveId);
      if (v.expectedRandom !== undefined) {
        expect(out.random.toString('utf8')).toBe(v.expectedRandom);
      }
    });

    if (v.signatureMatches === false) {
      it('is rejected by verifySignature (published signature belongs to another ciphertext)', () => {
        // Prepare / Act
        const ok = verifySignature(v.token, v.timestamp, v.nonce, v.encrypt, v.msgSignature);

        // Assess
        expect(ok).toBe(false);
        expect(() =>
          assertSignature(v.token, v.timestamp, v.nonce, v.encrypt, v.msgSignature),
        ).toThrow(expect.objectContaining({ code: 'bad_signature' }));
      });
    } else {
      it('has the published signature', () => {
        // Prepare / Act
        const ok = verifySignature(v.token, v.timestamp, v.nonce, v.encrypt, v.msgSignature);

        // Assess
        expect(signature(v.token, v.timestamp, v.nonce, v.encrypt)).toBe(v.msgSignature);
        expect(ok).toBe(true);
      });
    }

    if (v.postBody !== undefined) {
      const body = v.postBody;
      it('opens the published POST body end to end', () => {
        // Prepare
        const keys = { cipher: cipherFor(v), token: v.token };
        const query = { msgSignature: v.msgSignature, timestamp: v.timestamp, nonce: v.nonce };

        // Act
        const envelope = parseEnvelope(body);
        const opened = openCallback(keys, query, body);

        // Assess
        expect(envelope.encrypt).toBe(v.encrypt);
        expect(envelope.toUserName).toBe(v.receiveId);
        expect(opened.message).toBe(v.expectedPlaintext);
      });
    }
  },
);

describe.each(vectorsOf('encrypt').map((v) => [v.name, v] as const))(
  'encrypt vector %s',
  (_name, v) => {
    it('encrypts with the fixed random prefix to the published ciphertext and back', () => {
      // Prepare
      const cipher = cipherFor(v);
      const random = Buffer.from(v.random, 'utf8');

      // Act
      const encrypted = cipher.encrypt(v.message, random);

      // Assess
      expect(random).toHaveLength(16);
      expect(encrypted).toBe(v.encrypt);
      expect(cipher.decrypt(encrypted).message).toBe(v.expectedPlaintext);
    });

    if (v.msgSignature !== undefined && v.timestamp !== undefined && v.nonce !== undefined) {
      const { msgSignature, timestamp, nonce } = v;
      it('builds the published passive reply', () => {
        // Prepare
        const cipher = cipherFor(v);

        // Act
        const reply = buildPassiveReply({
          cipher,
          token: v.token,
          message: v.message,
          timestamp,
          nonce,
          random: Buffer.from(v.random, 'utf8'),
        });

        // Assess
        expect(reply).toBe(
          `<xml><Encrypt><![CDATA[${v.encrypt}]]></Encrypt>` +
            `<MsgSignature><![CDATA[${msgSignature}]]></MsgSignature>` +
            `<TimeStamp>${timestamp}</TimeStamp><Nonce><![CDATA[${nonce}]]></Nonce></xml>`,
        );
      });
    }
  },
);

describe('decrypted vector plaintexts as messages', () => {
  it('reads the official XML text message', () => {
    // Prepare
    const v = VECTORS.find((x) => x.name === 'wecom-sdk-decrypt-xml-QDG6eK');

    // Act
    const inbound = parseMessage(v?.expectedPlaintext ?? '');

    // Assess
    expect(inbound).toEqual({
      kind: 'text',
      msgType: 'text',
      text: 'hello',
      fromUserId: 'mycreate',
      toUserName: 'wx5823bf96d3bd56c7',
      agentId: '218',
      msgId: '4561255354251345929',
      createTime: '1409659813',
      dedupeKey: 'msg:4561255354251345929',
    });
  });

  it('keeps the 19-digit JSON MsgId exact (JSON.parse alone would round it)', () => {
    // Prepare
    const v = VECTORS.find((x) => x.name === 'wecom-go-decrypt-json-QDG6eK');

    // Act
    const inbound = parseMessage(v?.expectedPlaintext ?? '');

    // Assess
    expect(Number('4561255354251345929').toString()).not.toBe('4561255354251345929');
    expect(inbound.msgId).toBe('4561255354251345929');
    expect(inbound.dedupeKey).toBe('msg:4561255354251345929');
    expect(inbound.text).toBe('hello');
    expect(inbound.agentId).toBe('218');
  });

  it('reads the Chinese text message of the Python sample', () => {
    // Prepare
    const v = VECTORS.find((x) => x.name === 'wecom-python-decrypt-xml-hJqcu');

    // Act
    const inbound = parseMessage(v?.expectedPlaintext ?? '');

    // Assess
    expect(inbound).toMatchObject({ kind: 'text', text: '你好', fromUserId: 'ChenJiaShun' });
  });

  it('reads the open-platform event and dedupes it on sender, time and event', () => {
    // Prepare
    const v = VECTORS.find((x) => x.name === 'openplatform-doc-decrypt-AAAAA');

    // Act
    const inbound = parseMessage(v?.expectedPlaintext ?? '');

    // Assess
    expect(inbound).toMatchObject({ kind: 'event', event: 'debug_demo' });
    expect(inbound.dedupeKey).toBe('evt:o9AgO5Kd5ggOC-bXrbNODIiE3bGY:1715943329:debug_demo');
  });

  it('reads the video reply (sent by the account) as kind other, deduped on sender and time', () => {
    // Prepare
    const v = VECTORS.find((x) => x.name === 'mp-java-encrypt-fixed-random-2');

    // Act
    const inbound = parseMessage(v?.expectedPlaintext ?? '');

    // Assess
    expect(inbound).toMatchObject({ kind: 'other', msgType: 'video' });
    expect(inbound.text).toBeUndefined();
    expect(inbound.fromUserId).toBe('gh_7f083739789a');
    expect(inbound.dedupeKey).toBe('msg:gh_7f083739789a:1407743423:');
  });

  it.each(
    VECTORS.filter((v) => v.expectedPlaintext.includes(': :mycreate"')).map((v) => [v.name, v]),
  )('refuses the malformed JSON the Python/PHP samples publish (%s) as bad_json', (_n, v) => {
    // Prepare / Act
    const act = () => parseMessage(v.expectedPlaintext);

    // Assess
    expect(act).toThrow(WecomError);
    expect(act).toThrow(expect.objectContaining({ code: 'bad_json' }));
  });
});
