/**
 * The signing secret `npm start` and `npm run token` use when TASKWIRE_AUTH_SECRET is unset.
 * Public on purpose: fine on a laptop, never used by the stack (which generates its own).
 */
export const DEV_AUTH_SECRET = 'taskwire-local-dev-secret-change-me-0123456789';

/** The secret local tools sign and verify with. */
export const localAuthSecret = (): string => process.env.TASKWIRE_AUTH_SECRET || DEV_AUTH_SECRET;
