/** The last `capacity` ids seen, for deduping frames by `id` in bounded memory. */
export class RecentIds {
  private readonly seen = new Set<string>();

  public constructor(private readonly capacity = 10_000) {}

  /** True when the id was seen before; remembers it otherwise. */
  public seenBefore(id: string): boolean {
    if (this.seen.has(id)) return true;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return false;
  }
}
