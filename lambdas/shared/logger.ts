import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one Powertools Logger of a function. Structured JSON with the service name; keys such as
 * connectionId and taskId are passed per call so concurrent local invocations never mix them.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'taskwire',
});
