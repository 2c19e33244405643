/**
 * A small seeded PRNG (mulberry32) for fuzzers whose every case must be replayable: case `i` of
 * seed `s` is `new Rng(caseSeed(s, i))`, whatever ran before it.
 */
export class Rng {
  private state: number;

  public constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  public next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  public int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  public bool(p = 0.5): boolean {
    return this.next() < p;
  }

  public pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }

  public bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(0, 255);
    return b;
  }

  /** A string of printable ASCII and some multi-byte characters (always valid UTF-16). */
  public text(max: number): string {
    const alphabet = 'abcXYZ019 {}[]":,./\\%&?=#+-_~\t\né中😀\u0000\u007f';
    const chars = Array.from(alphabet);
    let out = '';
    for (let i = this.int(0, max); i > 0; i--) out += this.pick(chars);
    return out;
  }
}

/** The seed of case `i` of a run seeded `seed`. */
export function caseSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35)) >>> 0;
}
