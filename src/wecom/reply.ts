import { randomBytes } from 'node:crypto';
import { buildPassiveReply, signature, type WecomCipher } from './crypto';

/** An HTTP answer to a callback: content type and body. */
export interface CallbackReply {
  readonly contentType: string;
  readonly body: string;
}

/** The plain `success` WeCom takes as "received, nothing to say". */
export const SUCCESS_REPLY: CallbackReply = {
  contentType: 'text/plain; charset=utf-8',
  body: 'success',
};

/** Splits `]]>` so any text can sit inside a CDATA section. */
const cdata = (text: string) => `<![CDATA[${text.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

/** Options of {@link textReply}. */
export interface TextReplyOptions {
  readonly cipher: WecomCipher;
  readonly token: string;
  /** The envelope format the callback came in; the reply uses the same. */
  readonly format: 'xml' | 'json';
  /** Who the reply goes to (the sender) and who it is from (the corp / bot). */
  readonly toUser: string;
  readonly fromUser: string;
  readonly content: string;
  readonly now: Date;
  /** Fresh when omitted. */
  readonly nonce?: string;
}

/**
 * An encrypted passive text reply: XML (`<xml><ToUserName/>…<MsgType>text</MsgType>
 * <Content/></xml>` in the `<Encrypt>` envelope) for app callbacks, or the smart-bot JSON
 * (`{"msgtype":"text","text":{"content"}}` in `{"encrypt","msgsignature","timestamp","nonce"}`).
 */
export function textReply(options: TextReplyOptions): CallbackReply {
  const timestamp = String(Math.floor(options.now.getTime() / 1000));
  const nonce = options.nonce ?? randomBytes(8).toString('hex');
  if (options.format === 'json') {
    const plaintext = JSON.stringify({ msgtype: 'text', text: { content: options.content } });
    const encrypt = options.cipher.encrypt(plaintext);
    return {
      contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({
        encrypt,
        msgsignature: signature(options.token, timestamp, nonce, encrypt),
        timestamp: Number(timestamp),
        nonce,
      }),
    };
  }
  const plaintext =
    `<xml><ToUserName>${cdata(options.toUser)}</ToUserName>` +
    `<FromUserName>${cdata(options.fromUser)}</FromUserName>` +
    `<CreateTime>${timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
    `<Content>${cdata(options.content)}</Content></xml>`;
  return {
    contentType: 'application/xml; charset=utf-8',
    body: buildPassiveReply({
      cipher: options.cipher,
      token: options.token,
      message: plaintext,
      timestamp,
      nonce,
    }),
  };
}
