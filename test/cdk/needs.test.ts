import { FUNCTIONS, type Need } from '../../lambdas/catalog';
import {
  applyNeeds,
  NEED_BINDINGS,
  type NeedBinding,
  type NeedResources,
} from '../../lib/constructs/needs';
import type { TaskwireFunction } from '../../lib/constructs/taskwire-function';

// Compile-time guarantees, checked by `tsc --noEmit` (ts-jest runs without type diagnostics):
// an unknown need is not a Need, and a binding table missing a need does not type-check.
// @ts-expect-error 'not-a-need' is not in the catalog's Need union.
const unknownNeed: Need = 'not-a-need';
// @ts-expect-error a table without every need is not a valid NEED_BINDINGS.
const partialTable: { readonly [N in Need]: NeedBinding } = { push: NEED_BINDINGS.push };

describe('need bindings', () => {
  it('binds every need any catalog function declares', () => {
    // Prepare
    const declared = new Set(Object.values(FUNCTIONS).flatMap((spec) => spec.needs));
    // Act
    const unbound = [...declared].filter((need) => typeof NEED_BINDINGS[need] !== 'function');
    // Assess
    expect(unbound).toEqual([]);
  });

  it('fails with the need and the file to edit when a need has no binding', () => {
    // Prepare: the stand-ins are never touched, because the unknown need fails first.
    const fn = { node: { id: 'someFunction' } } as unknown as TaskwireFunction;
    const resources = {} as NeedResources;
    // Act
    const act = () => applyNeeds(fn, [unknownNeed], resources);
    // Assess
    expect(act).toThrow(
      /someFunction: need "not-a-need" has no binding in lib\/constructs\/needs.ts/,
    );
    expect(partialTable.push).toBe(NEED_BINDINGS.push);
  });
});
