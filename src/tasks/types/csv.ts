/**
 * Parses comma-separated text (RFC 4180: quoted fields may hold commas, newlines and doubled
 * quotes; CRLF, LF or CR end a record). Returns undefined for an unterminated quote. Trailing
 * empty records (blank lines at the end) are dropped; blank lines inside are kept as `['']`.
 */
export function parseCsv(text: string): string[][] | undefined {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else quoted = false;
      continue;
    }
    if (c === '"' && fieldStart) {
      quoted = true;
      fieldStart = false;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStart = true;
    } else {
      field += c;
      fieldStart = false;
    }
  }
  if (quoted) return undefined;
  if (!fieldStart || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  while (rows.length > 0 && isBlank(rows[rows.length - 1])) rows.pop();
  return rows;
}

const isBlank = (row: readonly string[] | undefined): boolean =>
  row !== undefined && row.length === 1 && row[0] === '';

/**
 * The rows when the text is a table: at least a header and one record, at least two columns,
 * and the same number of fields in every row. Anything else is not CSV.
 */
export function csvTable(text: string): string[][] | undefined {
  const rows = parseCsv(text);
  const width = rows?.[0]?.length ?? 0;
  if (!rows || rows.length < 2 || width < 2) return undefined;
  return rows.every((r) => r.length === width) ? rows : undefined;
}
