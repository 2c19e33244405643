/**
 * Who a push goes to. Every audience but `connection` is resolved with a Query on one of the
 * connections table's indexes.
 */
export type Audience =
  | { readonly kind: 'connection'; readonly connectionId: string }
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'group'; readonly group: string }
  | { readonly kind: 'clientType'; readonly clientType: string }
  | { readonly kind: 'all' };

/** A short description of an audience for logs and metrics. */
export function describeAudience(a: Audience): string {
  switch (a.kind) {
    case 'connection':
      return `connection:${a.connectionId}`;
    case 'user':
      return `user:${a.userId}`;
    case 'group':
      return `group:${a.group}`;
    case 'clientType':
      return `clientType:${a.clientType}`;
    case 'all':
      return 'all';
  }
}
