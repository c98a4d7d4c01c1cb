/** The kit's SQL helpers, under the names identity's store uses. */
export { type Queryable, withTransaction as inTransaction } from '@bazaar/kit';
