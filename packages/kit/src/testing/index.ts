export { ManualClock } from '../time.ts';
export {
  accessClaims,
  type FakeIdentity,
  type FakeKey,
  newKey,
  serviceClaims,
  sign,
  startFakeIdentity,
} from './fake-identity.ts';
export { StaticInstances } from './static-instances.ts';
export {
  createServiceDatabase,
  createTestDatabase,
  type ServiceTestDatabase,
  type TestDatabase,
} from './test-database.ts';
