import { MAX_JSON_DEPTH } from '../../../src/push/json-depth';
import { analyseFile, NESTED_CELL } from '../../../src/tasks/types/logic-report';

const nested = (n: number) => '['.repeat(n) + '1' + ']'.repeat(n);

describe('logic report on a JSON file with deeply nested cells', () => {
  it('counts a cell too deep to stringify as a marker instead of failing the task', () => {
    // Prepare: the boxId analysis stringifies first-column cells that are not strings
    const text = `[{"id":${nested(20_000)}},{"id":"b"},{"id":${nested(MAX_JSON_DEPTH)}}]`;

    // Act
    const report = analyseFile(new TextEncoder().encode(text), { name: 'deep.json', boxId: 'B1' });

    // Assess
    expect(report).toMatchObject({
      detectedType: 'json',
      records: 3,
      analysis: { boxId: 'B1', column: 'id', distinct: 3 },
    });
    const analysis = report.analysis;
    if (analysis === 'standard') throw new Error('expected the boxId analysis');
    const values = analysis.top.map((t) => t.value);
    expect(values).toContain(NESTED_CELL);
    expect(values).toContain(nested(MAX_JSON_DEPTH));
  });
});
