import type { Audience } from '../connections/audience';
import type { ConnectionStore } from '../connections/store';

/**
 * The union of several audiences as pages of distinct connection ids: a connection that belongs
 * to two of them (a user's own observer tab) gets one copy, not two.
 */
export async function* unionRecipients(
  store: ConnectionStore,
  audiences: readonly Audience[],
): AsyncIterable<readonly string[]> {
  const seen = new Set<string>();
  for (const audience of audiences) {
    for await (const page of store.recipients(audience)) {
      const fresh = page.filter((id) => !seen.has(id));
      for (const id of fresh) seen.add(id);
      if (fresh.length > 0) yield fresh;
    }
  }
}
