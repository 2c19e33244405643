/**
 * dsNumber and boxId: ASCII letters, digits, `_` and `-`, 1-64 characters. They end up in a
 * download URL path and in storage keys, so nothing that could traverse (`/`, `.`) or need
 * escaping is allowed; real values are short alphanumeric ids.
 */
export const DS_NUMBER_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** See DS_NUMBER_RE; box ids (drop-table ids) follow the same rule (download and logic). */
export const BOX_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
