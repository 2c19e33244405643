/**
 * Safe XML reading for WeCom envelopes and messages.
 *
 * WeCom XML is flat and small: `<xml>` with leaf elements (mostly CDATA) and, for group-robot
 * callbacks, a level of nesting (`<From><UserId/></From>`). We read it into plain records and
 * refuse everything a WeCom sender never uses but an attacker would: DOCTYPE and ENTITY
 * declarations (billion-laughs, external entities), ill-formed markup, other root elements.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { WecomError } from './errors';

/** A parsed element: its text, its child elements, or (for a repeated tag) all of them. */
export type XmlValue = string | XmlRecord | XmlValue[];

/**
 * Child elements by lower-cased tag name. Has no prototype, so tag names cannot shadow Object
 * methods.
 */
export interface XmlRecord {
  [tag: string]: XmlValue;
}

/** Deepest nesting we accept; WeCom uses 3 levels, the rest is an attempt to exhaust the stack. */
const MAX_DEPTH = 16;

const CDATA = '__cdata';
const TEXT = '#text';

/**
 * Entities are never expanded by the parser (processEntities: false); the five predefined ones
 * and character references are decoded afterwards by decodeEntities, which cannot recurse.
 * Values stay strings (parseTagValue: false) because MsgId exceeds 2^53 and would be rounded.
 * preserveOrder keeps CDATA and text apart, so entity decoding applies to text only.
 */
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  trimValues: false,
  cdataPropName: CDATA,
  commentPropName: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_DEPTH,
});

/** Markup that opens a CDATA section, a comment, or a DOCTYPE/ENTITY declaration (any case). */
const MARKUP_RE = /<!\[CDATA\[|<!--|<!\s*(?:DOCTYPE|ENTITY)/gi;

/**
 * Throws WecomError('bad_xml') when the text contains a DOCTYPE or ENTITY declaration. Checked on
 * the raw text, before any parser sees it, so no parser option can re-enable expansion (and
 * processEntities: false stays as a second line). CDATA sections and comments are skipped the
 * way a parser skips them, so a user who chats "<!DOCTYPE html>" (which WeCom wraps in CDATA)
 * is not refused.
 */
export function rejectXmlDeclarations(text: string): void {
  const scanner = new RegExp(MARKUP_RE.source, MARKUP_RE.flags);
  let match = scanner.exec(text);
  while (match !== null) {
    const opener = match[0].toUpperCase();
    if (opener === '<![CDATA[' || opener === '<!--') {
      const end = text.indexOf(opener === '<!--' ? '-->' : ']]>', scanner.lastIndex);
      // Unterminated: nothing after it is markup; the parser refuses the document anyway.
      if (end < 0) return;
      scanner.lastIndex = end + 3;
    } else {
      throw new WecomError('bad_xml', 'DOCTYPE and ENTITY declarations are not allowed');
    }
    match = scanner.exec(text);
  }
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/**
 * Decodes XML's predefined entities and numeric character references in a text node. Anything
 * else (a custom entity, an out-of-range reference) is left as written; XMLValidator has already
 * refused undeclared entity references in well-formed positions.
 */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      const valid = code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
      return valid ? String.fromCodePoint(code) : whole;
    }
    return Object.hasOwn(PREDEFINED_ENTITIES, ref) ? (PREDEFINED_ENTITIES[ref] ?? whole) : whole;
  });
}

/** One node of fast-xml-parser's preserveOrder output: `{ tag: children[] }` or `{ '#text': s }`. */
type OrderedNode = Record<string, unknown>;

function asNodes(value: unknown): OrderedNode[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (n): n is OrderedNode => typeof n === 'object' && n !== null && !Array.isArray(n),
  );
}

/** The tag of an element node (its one key that is not the text or attribute key). */
function tagOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== TEXT && k !== ':@');
}

/**
 * Converts an element's ordered children to an XmlValue: a string when it holds only text and
 * CDATA (concatenated in document order), else a record of its child elements (text between
 * elements, normally just indentation, is dropped).
 */
function convert(children: OrderedNode[], depth: number): XmlValue {
  if (depth > MAX_DEPTH) throw new WecomError('bad_xml', 'XML is nested too deeply');
  const elements = children.filter((n) => {
    const tag = tagOf(n);
    return tag !== undefined && tag !== CDATA;
  });
  if (elements.length === 0) {
    let text = '';
    for (const node of children) {
      if (typeof node[TEXT] === 'string') text += decodeEntities(node[TEXT]);
      else if (Object.hasOwn(node, CDATA)) {
        for (const inner of asNodes(node[CDATA])) {
          if (typeof inner[TEXT] === 'string') text += inner[TEXT];
        }
      }
    }
    return text;
  }
  const record = Object.create(null) as XmlRecord;
  // Tags seen more than once: their value is the array we collect into. Tracked separately so a
  // repeated tag is never confused with an element that merely holds an array.
  const collected = new Map<string, XmlValue[]>();
  for (const node of elements) {
    const tag = tagOf(node);
    if (tag === undefined) continue;
    const value = convert(asNodes(node[tag]), depth + 1);
    // Lower-cased like JSON keys, so one schema reads both shapes; `Encrypt` and `encrypt` in one
    // document count as a repetition and are refused by the schema rather than one winning.
    const key = tag.toLowerCase();
    const list = collected.get(key);
    const existing = record[key];
    if (list !== undefined) list.push(value);
    else if (existing === undefined) record[key] = value;
    else {
      const values = [existing, value];
      collected.set(key, values);
      record[key] = values;
    }
  }
  return record;
}

/**
 * Parses a WeCom XML document whose root element is `<xml>` and returns the root's content.
 * Tags are lower-cased; repeated tags become arrays, so a schema expecting one value refuses them.
 * @throws WecomError('bad_xml') on declarations, ill-formed XML, several roots or another root
 */
export function parseWecomXml(text: string): XmlValue {
  rejectXmlDeclarations(text);
  let ordered: unknown;
  try {
    const validation = XMLValidator.validate(text);
    if (validation !== true) {
      throw new WecomError('bad_xml', `malformed XML: ${validation.err.msg}`);
    }
    ordered = parser.parse(text);
  } catch (cause) {
    if (cause instanceof WecomError) throw cause;
    // fast-xml-parser throws plain Errors (e.g. for reserved names like __proto__); all are
    // about the input, so they become bad_xml rather than escaping as a 5xx.
    throw new WecomError('bad_xml', 'malformed XML', { cause });
  }
  const roots = asNodes(ordered).filter((n) => tagOf(n) !== undefined);
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || tagOf(root) !== 'xml') {
    throw new WecomError('bad_xml', 'expected a single <xml> root element');
  }
  return convert(asNodes(root['xml']), 1);
}
