/**
 * The WeCom domain: callback crypto, envelope and message parsing, chat commands. Pure (node:crypto,
 * fast-xml-parser, zod); knows nothing of Lambda, HTTP frameworks or AWS.
 */
export * from './errors';
export * from './crypto';
export * from './envelope';
export * from './message';
export * from './commands';
export * from './callback';
export * from './task-access';
