import { parseMessage } from '../../../src/wecom';
import { codeOf } from './helpers';

const text = (content: string, extra = '') =>
  `<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[alice]]></FromUserName>` +
  `<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
  `<Content><![CDATA[${content}]]></Content><MsgId>123</MsgId><AgentID>1000002</AgentID>${extra}</xml>`;

describe('parseMessage: app callbacks (XML)', () => {
  it('reads a text message', () => {
    // Prepare
    const xml = text('  download 12345  ');

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m).toEqual({
      kind: 'text',
      msgType: 'text',
      text: 'download 12345',
      fromUserId: 'alice',
      toUserName: 'ww1',
      agentId: '1000002',
      msgId: '123',
      createTime: '1700000000',
      dedupeKey: 'msg:123',
    });
  });

  it('reads an event, deduped on sender, time and event', () => {
    // Prepare
    const xml =
      '<xml><ToUserName>ww1</ToUserName><FromUserName>bob</FromUserName><CreateTime>1700000001</CreateTime>' +
      '<MsgType>event</MsgType><Event>click</Event><EventKey>menu_1</EventKey><AgentID>1</AgentID></xml>';

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m).toMatchObject({
      kind: 'event',
      event: 'click',
      eventKey: 'menu_1',
      fromUserId: 'bob',
    });
    expect(m.text).toBeUndefined();
    expect(m.dedupeKey).toBe('evt:bob:1700000001:click');
  });

  it('gives two events of one sender and second distinct keys when the event differs', () => {
    // Prepare
    const ev = (e: string) =>
      `<xml><FromUserName>bob</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType><Event>${e}</Event></xml>`;

    // Act
    const a = parseMessage(ev('enter_agent'));
    const b = parseMessage(ev('click'));

    // Assess
    expect(a.dedupeKey).not.toBe(b.dedupeKey);
  });

  it('reads other message types as kind other', () => {
    // Prepare
    const xml =
      '<xml><FromUserName>bob</FromUserName><CreateTime>5</CreateTime><MsgType>image</MsgType>' +
      '<PicUrl>http://x/y.png</PicUrl><MsgId>77</MsgId></xml>';

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m).toEqual({
      kind: 'other',
      msgType: 'image',
      fromUserId: 'bob',
      createTime: '5',
      msgId: '77',
      dedupeKey: 'msg:77',
    });
  });

  it('decodes entities in plain text but keeps CDATA verbatim', () => {
    // Prepare
    const xml =
      '<xml><FromUserName>a&amp;b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>' +
      '<Content>x &lt; y &#x4F60;&#22909; <![CDATA[&amp; stays]]></Content><MsgId>1</MsgId></xml>';

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m.fromUserId).toBe('a&b');
    expect(m.text).toBe('x < y 你好 &amp; stays');
  });

  it('does not mistake a chatted "<!DOCTYPE html>" inside CDATA for a declaration', () => {
    // Prepare / Act
    const m = parseMessage(text('<!DOCTYPE html> <!ENTITY x>'));

    // Assess
    expect(m.text).toBe('<!DOCTYPE html> <!ENTITY x>');
  });
});

describe('parseMessage: group robot callbacks (XML)', () => {
  const robot = (body: string) =>
    '<xml><WebhookUrl><![CDATA[http://in.qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1]]></WebhookUrl>' +
    '<ChatId><![CDATA[wrkSFfCgAAxxx]]></ChatId><PostId><![CDATA[bpk]]></PostId><ChatType>group</ChatType>' +
    '<From><UserId>zhangsan</UserId><Name><![CDATA[张三]]></Name><Alias><![CDATA[zs]]></Alias></From>' +
    `${body}</xml>`;

  it('reads a text message with webhook, chat and sender', () => {
    // Prepare
    const xml = robot(
      '<MsgType>text</MsgType><Text><Content><![CDATA[@RobotA download 42]]></Content></Text><MsgId>abcd</MsgId>',
    );

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m).toEqual({
      kind: 'text',
      msgType: 'text',
      text: '@RobotA download 42',
      fromUserId: 'zhangsan',
      chatId: 'wrkSFfCgAAxxx',
      chatType: 'group',
      webhookUrl: 'http://in.qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1',
      msgId: 'abcd',
      dedupeKey: 'msg:abcd',
    });
  });

  it('reads a robot event whose Event holds an EventType', () => {
    // Prepare
    const xml = robot(
      '<MsgType>event</MsgType><Event><EventType><![CDATA[add_to_chat]]></EventType></Event><MsgId>e1</MsgId>',
    );

    // Act
    const m = parseMessage(xml);

    // Assess
    expect(m).toMatchObject({ kind: 'event', event: 'add_to_chat', dedupeKey: 'msg:e1' });
  });
});

describe('parseMessage: JSON messages', () => {
  it('reads a smart-bot JSON text message', () => {
    // Prepare
    const json = JSON.stringify({
      msgid: 'CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
      aibotid: 'AIBOTID',
      chatid: 'CHATID',
      chattype: 'group',
      from: { userid: 'USERID' },
      response_url: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=x',
      msgtype: 'text',
      text: { content: '状态 T-1' },
    });

    // Act
    const m = parseMessage(json);

    // Assess
    expect(m).toEqual({
      kind: 'text',
      msgType: 'text',
      text: '状态 T-1',
      fromUserId: 'USERID',
      chatId: 'CHATID',
      chatType: 'group',
      responseUrl: 'https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=x',
      aiBotId: 'AIBOTID',
      msgId: 'CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
      dedupeKey: 'msg:CAIQ16HMjQYY/NGagIOAgAMgq4KM0AI=',
    });
  });

  it('keeps a large numeric MsgId exact and reads numeric CreateTime', () => {
    // Prepare
    const json =
      '{"FromUserName":"a","CreateTime":1409659813,"MsgType":"text","Content":"hi","MsgId":9007199254740993}';

    // Act
    const m = parseMessage(json);

    // Assess
    expect(m.msgId).toBe('9007199254740993');
    expect(m.createTime).toBe('1409659813');
  });

  it('leaves numbers inside strings and non-integers alone', () => {
    // Prepare
    const json =
      '{"FromUserName":"a \\" 12345678901234567890","CreateTime":1,"MsgType":"text","Content":"x","MsgId":"1","n":1.5e300}';

    // Act
    const m = parseMessage(json);

    // Assess
    expect(m.fromUserId).toBe('a " 12345678901234567890');
  });
});

describe('parseMessage: refused messages', () => {
  it.each([
    ['CDATA of spaces', text('   ')],
    ['an empty CDATA', text('')],
    ['full-width spaces and newlines', text('\u3000\n\t')],
  ])('empty_text: %s', (_what, xml) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage(xml))).toBe('empty_text');
  });

  it('empty_text: smart-bot JSON with empty text', () => {
    // Prepare
    const json = '{"msgid":"1","from":{"userid":"u"},"msgtype":"text","text":{"content":" "}}';

    // Act / Assess
    expect(codeOf(() => parseMessage(json))).toBe('empty_text');
  });

  it.each([
    ['no MsgType', '<xml><FromUserName>a</FromUserName><MsgId>1</MsgId></xml>'],
    ['no sender', '<xml><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>'],
    [
      'an empty sender',
      '<xml><FromUserName></FromUserName><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>',
    ],
    [
      'text without Content',
      '<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>',
    ],
    [
      'event without Event',
      '<xml><FromUserName>a</FromUserName><CreateTime>1</CreateTime><MsgType>event</MsgType></xml>',
    ],
    [
      'nothing to dedupe on',
      '<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>',
    ],
    ['an empty <xml/>', '<xml/>'],
  ])('missing_field: %s', (_what, xml) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage(xml))).toBe('missing_field');
  });

  it.each([
    ['a non-numeric CreateTime', text('x').replace('1700000000', 'yesterday')],
    ['a repeated Content', text('x', '<Content>y</Content>')],
    ['a file: WebhookUrl', text('x', '<WebhookUrl>file:///etc/passwd</WebhookUrl>')],
    ['a WebhookUrl that is no URL', text('x', '<WebhookUrl>not a url</WebhookUrl>')],
    ['a numeric JSON Content', '{"FromUserName":"a","MsgType":"text","Content":5,"MsgId":"1"}'],
    ['a negative JSON MsgId', '{"FromUserName":"a","MsgType":"text","Content":"x","MsgId":-1}'],
    ['an empty MsgType', '<xml><MsgType></MsgType><FromUserName>a</FromUserName></xml>'],
  ])('bad_field: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage(body))).toBe('bad_field');
  });

  it.each([
    ['DOCTYPE', `<!DOCTYPE xml [<!ENTITY a "b">]>${text('&a;')}`],
    ['ENTITY', '<xml><!ENTITY a "b"><MsgType>text</MsgType></xml>'],
    ['malformed XML', '<xml><MsgType>text</xml>'],
  ])('bad_xml: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage(body))).toBe('bad_xml');
  });

  it.each([
    ['plain text (a URL-check echostr plaintext)', '1616140317555161061'],
    ['empty', ''],
    ['a JSON array', '[{"MsgType":"text"}]'],
  ])('bad_format: %s', (_what, body) => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage(body))).toBe('bad_format');
  });

  it('bad_json: malformed JSON', () => {
    // Prepare / Act / Assess
    expect(codeOf(() => parseMessage('{"MsgType": :text"}'))).toBe('bad_json');
  });
});
