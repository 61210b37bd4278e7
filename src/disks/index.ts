export * from './facts.js';
export * from './names.js';
export * from './options.js';
export * from './policy.js';
export * from './retention.js';
