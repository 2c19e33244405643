/**
 * True when A and B are assignable to each other and have the same keys (optional ones
 * included): how a schema written for the documents is held to the domain type it describes.
 */
export type SameShape<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [keyof A] extends [keyof B]
      ? [keyof B] extends [keyof A]
        ? true
        : false
      : false
    : false
  : false;

/**
 * Compiles only when given `true`: `sameShape<SameShape<z.output<typeof s>, Task>>()` fails
 * `tsc` as soon as the schema and the type drift apart.
 */
export const sameShape = <T extends true>(): T | undefined => undefined;
