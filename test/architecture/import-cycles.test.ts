import { importCycles, sourceFiles } from './import-graph';

describe('import graph', () => {
  it('has no import cycles in src, lambdas, local, lib, bin, client or scripts', () => {
    const files = sourceFiles(['src', 'lambdas', 'local', 'lib', 'bin', 'scripts']);
    expect(files.length).toBeGreaterThan(50);
    expect(importCycles(files)).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const files = sourceFiles(['test/architecture/fixtures/cycle']);
    expect(importCycles(files)).toEqual([
      [
        'test/architecture/fixtures/cycle/a.ts',
        'test/architecture/fixtures/cycle/b.ts',
        'test/architecture/fixtures/cycle/c.ts',
      ],
    ]);
  });
});
