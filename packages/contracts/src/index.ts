export * from './catalog.ts';
export * from './errors.ts';
export * from './headers.ts';
export * from './identity.ts';
export * from './problem.ts';
export * from './registry.ts';
