import { ENV, FUNCTIONS } from '../../../lambdas/catalog';
import { CONNECTIONS_TABLE } from '../../../src/connections/schema';
import { DEFAULT_SWEEP_CHECKS_PER_SECOND } from '../../../src/connections/sweep';
import { logicalIdOf, resourceById, type GetTaskwire } from '../support/taskwire-template';

// Set by the test file that registers the suite; read only inside tests.
let get: GetTaskwire = () => {
  throw new Error('suite used before its test file registered it');
};

const sweeper = () => get().stack.functions.byName.connectionSweeper;

/** Registers the connection sweeper tests: its index and its rate setting. */
export function describeSweeper(getTaskwire: GetTaskwire): void {
  get = getTaskwire;

  describe('connection sweeper', () => {
    it('reads stale records through a shard + last-seen deadline index of the connections table', () => {
      // Prepare
      const table = resourceById(get().template, logicalIdOf(get().stack.connections.table));
      // Act
      const index = (
        table.Properties?.GlobalSecondaryIndexes as { IndexName: string }[] | undefined
      )?.find((i) => i.IndexName === 'byStaleAt');
      // Assess
      expect(index).toEqual({
        IndexName: 'byStaleAt',
        KeySchema: [
          { AttributeName: 'shard', KeyType: 'HASH' },
          { AttributeName: 'staleAt', KeyType: 'RANGE' },
        ],
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: [...CONNECTIONS_TABLE.indexes.byStaleAt.include],
        },
      });
    });

    it('is told its GetConnection rate and runs on its schedule', () => {
      // Prepare
      const fn = resourceById(get().template, logicalIdOf(sweeper().function));
      // Act
      const env = fn.Properties?.Environment as { Variables?: Record<string, unknown> };
      // Assess
      expect(env.Variables?.[ENV.sweepChecksPerSecond]).toBe(
        String(DEFAULT_SWEEP_CHECKS_PER_SECOND),
      );
      expect(FUNCTIONS.connectionSweeper.schedule).toBe('rate(15 minutes)');
    });
  });
}
