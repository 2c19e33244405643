import { readPlacementSettings } from '../../../lambdas/config/placement-config';

/** TASKWIRE_PLACEMENT, TASKWIRE_PLACEMENT_TIMEOUT_S and TASKWIRE_LEASE_SECONDS, as `npm start` reads them. */
describe('readPlacementSettings', () => {
  it('defaults to every type in Lambda, 300 s to wait and a 30 s lease', () => {
    // Act
    const settings = readPlacementSettings({});

    // Assess
    expect(settings).toEqual({ placement: {}, placementTimeoutSeconds: 300, leaseSeconds: 30 });
  });

  it('reads a placement per type, a timeout up to 1800 s and a lease', () => {
    // Act
    const settings = readPlacementSettings(
      {
        TASKWIRE_PLACEMENT: '{"download":"auto","logic":"websocket"}',
        TASKWIRE_PLACEMENT_TIMEOUT_S: '1800',
        TASKWIRE_LEASE_SECONDS: '5',
      },
      ['download', 'logic'],
    );

    // Assess
    expect(settings).toEqual({
      placement: { download: 'auto', logic: 'websocket' },
      placementTimeoutSeconds: 1800,
      leaseSeconds: 5,
    });
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    [
      'a timeout past the reaper’s wait for a queued task',
      { TASKWIRE_PLACEMENT_TIMEOUT_S: '1801' },
      'setting TASKWIRE_PLACEMENT_TIMEOUT_S="1801" must be a whole number from 1 to 1800',
    ],
    [
      'a lease of 0',
      { TASKWIRE_LEASE_SECONDS: '0' },
      'setting TASKWIRE_LEASE_SECONDS="0" must be a whole number from 1 to 900',
    ],
    [
      'an unknown task type',
      { TASKWIRE_PLACEMENT: '{"render":"auto"}' },
      'setting TASKWIRE_PLACEMENT: unknown task type "render"',
    ],
  ])('refuses %s, naming the setting', (_what, env, message) => {
    // Act / Assess
    expect(() => readPlacementSettings(env, ['download', 'logic'])).toThrow(message);
  });
});
