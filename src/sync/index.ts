export * from './block-copy.js';
export * from './mirror-budget.js';
export * from './nbd-export.js';
export * from './remote.js';
export * from './tls-identity.js';
export type * from './types.js';
