export { ManualClock } from '../time.ts';
export { StaticInstances } from './static-instances.ts';
export { createTestDatabase, type TestDatabase } from './test-database.ts';
