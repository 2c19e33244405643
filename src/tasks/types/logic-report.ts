/**
 * The `logic` task's report: pure functions of the bytes or words, so the same input always
 * gives the same report (and tests need nothing but inputs).
 */
import { sha256Hex } from '../../artifacts/artifact-ref';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../../push/json-depth';
import { csvTable } from './csv';

/** What a file looks like. */
export type DetectedType = 'csv' | 'json' | 'text' | 'binary' | 'empty';

/** How often a value occurs. */
export interface ValueCount {
  readonly value: string;
  readonly count: number;
}

/**
 * The boxId analysis: how often each value of the first column occurs among the records
 * (csv: the header's first column; json: the first key of the first record; words: each
 * word). Files without columns (text, binary, empty) get `column: null` and no counts.
 */
export interface BoxAnalysis {
  readonly boxId: string;
  readonly column: string | null;
  /** Distinct values in the column. */
  readonly distinct: number;
  /** The most frequent values, at most TOP_VALUES, by count then value. */
  readonly top: readonly ValueCount[];
}

/** A report on a stored file. */
export interface FileReport {
  readonly kind: 'file';
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly detectedType: DetectedType;
  /** Text lines (a final newline ends the last line rather than starting one); 0 for binary. */
  readonly lines: number;
  /** csv: rows after the header; json: the array's length (or 1); text: lines; else 0. */
  readonly records: number;
  /** csv: the header; json: the first record's keys when records are objects. */
  readonly columns?: readonly string[];
  /** Text: the first PREVIEW_LINES lines, at most PREVIEW_CHARS characters; binary: hex. */
  readonly preview: string;
  /** `standard` without a boxId. */
  readonly analysis: 'standard' | BoxAnalysis;
}

/** A report on a task's words. */
export interface WordsReport {
  readonly kind: 'words';
  readonly count: number;
  readonly unique: number;
  readonly preview: string;
  readonly analysis: 'standard' | BoxAnalysis;
}

/** What a `logic` task returns. */
export type LogicReport = FileReport | WordsReport;

export const PREVIEW_LINES = 5;
export const PREVIEW_CHARS = 400;
export const TOP_VALUES = 20;
const BINARY_PREVIEW_BYTES = 32;

/** Code-point slice: never splits a surrogate pair (which would show as U+FFFD). */
function clip(text: string, chars: number): string {
  // chars code points fit in 2*chars UTF-16 units; slicing first keeps huge lines cheap.
  return Array.from(text.slice(0, chars * 2))
    .slice(0, chars)
    .join('');
}

function countLines(text: string): number {
  if (text === '') return 0;
  const breaks = text.match(/\r\n|\n|\r/g)?.length ?? 0;
  return /[\r\n]$/.test(text) ? breaks : breaks + 1;
}

function textPreview(text: string): string {
  const lines = text.slice(0, PREVIEW_CHARS * 2).split(/\r\n|\n|\r/);
  return clip(lines.slice(0, PREVIEW_LINES).join('\n'), PREVIEW_CHARS);
}

/** UTF-8 text, or undefined when the bytes are not (invalid UTF-8 or control bytes). */
function decodeText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // NUL never occurs in text; a few other controls (ESC in coloured logs) may, so allow 1%.
  if (text.includes('\u0000')) return undefined;
  let controls = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    // C0 controls and DEL, except tab, LF, VT, FF and CR, which plain text uses.
    if ((c < 0x20 && (c < 0x09 || c > 0x0d)) || c === 0x7f) controls += 1;
  }
  return controls * 100 > text.length ? undefined : text;
}

/** Only an object or array counts as JSON: a file holding `42` or `true` is text. */
function parseJson(text: string): unknown[] | object | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The records of a JSON document: the array itself, or the first array-valued property. */
function jsonRecords(value: object): readonly unknown[] | undefined {
  if (Array.isArray(value)) return value;
  return Object.values(value).find((v): v is unknown[] => Array.isArray(v));
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cell as text. A cell nested too deeply for JSON.stringify's recursion gets a marker. */
const cellText = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (v === undefined) return '';
  return jsonDepthExceeds(v, MAX_JSON_DEPTH) ? NESTED_CELL : JSON.stringify(v);
};

/** What a cell nested deeper than MAX_JSON_DEPTH counts as. */
export const NESTED_CELL = '[too deeply nested]';

/** Distinct values and the TOP_VALUES most frequent, ties broken by value (code units). */
function countValues(values: readonly string[]): { distinct: number; top: ValueCount[] } {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const top = [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, TOP_VALUES);
  return { distinct: counts.size, top };
}

function boxAnalysis(
  boxId: string | undefined,
  column: string | undefined,
  values: readonly string[],
): 'standard' | BoxAnalysis {
  if (boxId === undefined) return 'standard';
  if (column === undefined) return { boxId, column: null, distinct: 0, top: [] };
  return { boxId, column, ...countValues(values) };
}

type Shape = Pick<FileReport, 'detectedType' | 'lines' | 'records' | 'columns' | 'preview'> & {
  /** The first column's name and values, for the boxId analysis. */
  readonly firstColumn?: { readonly name: string; readonly values: readonly string[] };
};

function shapeOf(bytes: Uint8Array): Shape {
  if (bytes.byteLength === 0) return { detectedType: 'empty', lines: 0, records: 0, preview: '' };
  const text = decodeText(bytes);
  if (text === undefined) {
    const hex = Buffer.from(bytes.subarray(0, BINARY_PREVIEW_BYTES)).toString('hex');
    return {
      detectedType: 'binary',
      lines: 0,
      records: 0,
      preview: hex.replace(/(..)(?!$)/g, '$1 '),
    };
  }
  const lines = countLines(text);
  const preview = textPreview(text);
  const json = parseJson(text);
  if (json !== undefined) {
    const records = jsonRecords(json);
    const first = records?.[0];
    const columns = isRecord(first) ? Object.keys(first) : undefined;
    const name = columns?.[0];
    return {
      detectedType: 'json',
      lines,
      records: records?.length ?? 1,
      preview,
      ...(columns ? { columns } : {}),
      ...(records && name !== undefined
        ? {
            firstColumn: {
              name,
              values: records.map((r) => cellText(isRecord(r) ? r[name] : undefined)),
            },
          }
        : {}),
    };
  }
  const table = csvTable(text);
  const [header, ...rows] = table ?? [];
  if (header) {
    return {
      detectedType: 'csv',
      lines,
      records: rows.length,
      columns: header,
      preview,
      firstColumn: { name: header[0] ?? '', values: rows.map((r) => r[0] ?? '') },
    };
  }
  return { detectedType: 'text', lines, records: lines, preview };
}

/** Reports on a file's bytes; `boxId` selects the first-column analysis. */
export function analyseFile(
  bytes: Uint8Array,
  options: { readonly name: string; readonly boxId?: string },
): FileReport {
  const { firstColumn, ...shape } = shapeOf(bytes);
  return {
    kind: 'file',
    name: options.name,
    size: bytes.byteLength,
    sha256: sha256Hex(bytes),
    ...shape,
    analysis: boxAnalysis(options.boxId, firstColumn?.name, firstColumn?.values ?? []),
  };
}

/** Reports on a task's words; with a boxId, counts each word. */
export function analyseWords(words: readonly string[], boxId?: string): WordsReport {
  return {
    kind: 'words',
    count: words.length,
    unique: new Set(words).size,
    preview: clip(words.slice(0, 10).join(' '), PREVIEW_CHARS),
    analysis: boxAnalysis(boxId, 'word', words),
  };
}
