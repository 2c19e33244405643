import fc from 'fast-check';
import { artifactRefOf } from '../../../src/artifacts/artifact-ref';
import { AppError } from '../../../src/errors/app-error';
import { csvTable, parseCsv } from '../../../src/tasks/types/csv';
import { logicType } from '../../../src/tasks/types/logic';
import {
  analyseFile,
  analyseWords,
  PREVIEW_CHARS,
  type FileReport,
} from '../../../src/tasks/types/logic-report';
import { PermanentTaskError } from '../../../src/tasks/types/task-type';
import { fakeContext } from './context';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const report = (s: string | Uint8Array, boxId?: string): FileReport =>
  analyseFile(typeof s === 'string' ? utf8(s) : s, { name: 'f', ...(boxId ? { boxId } : {}) });

const CSV = 'id,box,value\nA,1,10\nB,2,20\nA,3,30\n';

describe('parseCsv', () => {
  it('reads quoted commas, doubled quotes, newlines in quotes and CRLF', () => {
    expect(parseCsv('a,"b,c","say ""hi"""\r\n1,"two\nlines",3')).toEqual([
      ['a', 'b,c', 'say "hi"'],
      ['1', 'two\nlines', '3'],
    ]);
  });

  it('drops trailing blank lines and refuses an unterminated quote', () => {
    expect(parseCsv('a,b\n1,2\n\n\n')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsv('a,"b\n1,2')).toBeUndefined();
  });

  it('is a table only with a header, a record, two columns and equal widths', () => {
    expect(csvTable('a,b\n1,2')).toBeDefined();
    expect(csvTable('a,b')).toBeUndefined();
    expect(csvTable('a\n1')).toBeUndefined();
    expect(csvTable('a,b\n1,2,3')).toBeUndefined();
    expect(csvTable('a,b\n\n1,2')).toBeUndefined();
  });
});

describe('analyseFile', () => {
  it('reports csv with columns, records and a preview', () => {
    const r = report(CSV);
    expect(r).toMatchObject({
      kind: 'file',
      name: 'f',
      size: CSV.length,
      detectedType: 'csv',
      lines: 4,
      records: 3,
      columns: ['id', 'box', 'value'],
      preview: 'id,box,value\nA,1,10\nB,2,20\nA,3,30\n',
      analysis: 'standard',
    });
    expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('counts the first column per value with a boxId', () => {
    expect(report(CSV, 'BOX1').analysis).toEqual({
      boxId: 'BOX1',
      column: 'id',
      distinct: 2,
      top: [
        { value: 'A', count: 2 },
        { value: 'B', count: 1 },
      ],
    });
  });

  it('reports a json array of objects', () => {
    const json = JSON.stringify([{ k: 'x', n: 1 }, { k: 'y' }, { k: 'x' }], null, 2);
    expect(report(json, 'B')).toMatchObject({
      detectedType: 'json',
      records: 3,
      columns: ['k', 'n'],
      analysis: {
        boxId: 'B',
        column: 'k',
        distinct: 2,
        top: [
          { value: 'x', count: 2 },
          { value: 'y', count: 1 },
        ],
      },
    });
  });

  it('counts the first array property of a json object, or one record', () => {
    expect(report('{"meta":{"v":1},"items":[1,2,3,4]}')).toMatchObject({
      detectedType: 'json',
      records: 4,
      lines: 1,
    });
    expect(report('{"a":1}')).toMatchObject({ detectedType: 'json', records: 1 });
    expect(report('{"a":1}').columns).toBeUndefined();
  });

  it('treats a bare JSON scalar and broken JSON as text', () => {
    expect(report('42').detectedType).toBe('text');
    expect(report('{"a":').detectedType).toBe('text');
  });

  it('reports text lines, records and at most five preview lines', () => {
    const text = 'one\ntwo\nthree\nfour\nfive\nsix\nseven';
    expect(report(text, 'B')).toEqual(
      expect.objectContaining({
        detectedType: 'text',
        lines: 7,
        records: 7,
        preview: 'one\ntwo\nthree\nfour\nfive',
        analysis: { boxId: 'B', column: null, distinct: 0, top: [] },
      }),
    );
    expect(report('one line').lines).toBe(1);
    expect(report('a\r\nb\r\n').lines).toBe(2);
  });

  it('cuts a long preview at 400 characters without splitting a character', () => {
    const r = report('😀'.repeat(500));
    expect(Array.from(r.preview)).toHaveLength(PREVIEW_CHARS);
    expect(r.preview).not.toContain('\uFFFD');
    expect(r.preview).toBe('😀'.repeat(PREVIEW_CHARS));
  });

  it('reports binary for invalid UTF-8 or NUL bytes, with a hex preview', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect(report(png)).toMatchObject({
      detectedType: 'binary',
      lines: 0,
      records: 0,
      preview: '89 50 4e 47 0d 0a 1a 0a 00 00',
      analysis: 'standard',
    });
    expect(report(new Uint8Array([0x61, 0x00, 0x62])).detectedType).toBe('binary');
    expect(report(new Uint8Array([0xc3, 0x28])).detectedType).toBe('binary');
  });

  it('keeps coloured logs and BOM-prefixed JSON as text and json', () => {
    expect(report(`\u001b[31merror\u001b[0m ${'plain log text '.repeat(20)}`).detectedType).toBe(
      'text',
    );
    expect(report('\uFEFF[1,2]')).toMatchObject({ detectedType: 'json', records: 2 });
    expect(report('\u0001\u0002\u0003abc').detectedType).toBe('binary');
  });

  it('reports an empty file', () => {
    expect(report(new Uint8Array(0), 'B')).toMatchObject({
      size: 0,
      detectedType: 'empty',
      lines: 0,
      records: 0,
      preview: '',
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      analysis: { boxId: 'B', column: null, distinct: 0, top: [] },
    });
  });

  it('is total and deterministic over arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        const a = analyseFile(bytes, { name: 'x', boxId: 'B' });
        expect(analyseFile(bytes, { name: 'x', boxId: 'B' })).toEqual(a);
        expect(Array.from(a.preview).length).toBeLessThanOrEqual(PREVIEW_CHARS);
        expect(a.size).toBe(bytes.byteLength);
      }),
    );
  });
});

describe('analyseWords', () => {
  it('counts words, unique words and previews them', () => {
    expect(analyseWords(['a', 'b', 'a'])).toEqual({
      kind: 'words',
      count: 3,
      unique: 2,
      preview: 'a b a',
      analysis: 'standard',
    });
    expect(analyseWords(['a', 'b', 'a'], 'B').analysis).toEqual({
      boxId: 'B',
      column: 'word',
      distinct: 2,
      top: [
        { value: 'a', count: 2 },
        { value: 'b', count: 1 },
      ],
    });
  });
});

describe('logic.run', () => {
  async function stored(text: string) {
    // A chained logic task, as the worker makes it: its parent stored the file under its id.
    const fake = fakeContext({ task: { taskType: 'logic', source: 'chain', parentTaskId: 't' } });
    const ref = await fake.store.put({ key: 'downloads/t/DS1', name: 'DS1', body: utf8(text) });
    return { ...fake, ref };
  }

  it('reads the artifact and reports on it', async () => {
    const { ctx, ref } = await stored(CSV);
    await expect(logicType.run({ artifact: ref, boxId: 'B9' }, ctx)).resolves.toMatchObject({
      kind: 'file',
      name: 'DS1',
      detectedType: 'csv',
      sha256: ref.sha256,
      analysis: { boxId: 'B9', column: 'id' },
    });
  });

  it('fails permanently when the bytes do not match the sha256', async () => {
    const { ctx, ref, store } = await stored(CSV);
    store.files.set(ref.key, utf8(CSV.replace('A', 'Z')));
    await expect(logicType.run({ artifact: ref }, ctx)).rejects.toThrow(PermanentTaskError);
    await expect(logicType.run({ artifact: ref }, ctx)).rejects.toThrow('does not match');
  });

  it('fails permanently when the artifact is gone, and retryably on other read errors', async () => {
    const { ctx, ref, store } = await stored(CSV);
    store.files.clear();
    await expect(logicType.run({ artifact: ref }, ctx)).rejects.toThrow(PermanentTaskError);
    store.get.mockRejectedValueOnce(new AppError('internal', 'disk on fire'));
    const error = await logicType.run({ artifact: ref }, ctx).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(PermanentTaskError);
  });

  it('reports on words when there is no artifact', async () => {
    const { ctx } = fakeContext();
    await expect(logicType.run({ args: ['x', 'y'] }, ctx)).resolves.toMatchObject({
      kind: 'words',
      count: 2,
    });
  });

  it('reads words and refuses none', () => {
    expect(logicType.fromWords(['a', 'b'], { servers: [], defaultServer: '' })).toEqual({
      args: ['a', 'b'],
    });
    expect(() => logicType.fromWords([], { servers: [], defaultServer: '' })).toThrow(AppError);
  });

  it('accepts what a download chains', () => {
    const ref = artifactRefOf({ key: 'k', name: 'n', body: utf8('x'), contentType: 'text/plain' });
    expect(logicType.argsSchema.safeParse({ artifact: ref, boxId: 'B' }).success).toBe(true);
    expect(logicType.argsSchema.safeParse({}).success).toBe(false);
  });
});
