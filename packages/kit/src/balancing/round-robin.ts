import type { Balancer, Endpoint } from './balancer.ts';

/** Cycles through the candidates in order, one pick each. */
export function createRoundRobin<E extends Endpoint = Endpoint>(): Balancer<E> {
  // The list changes as instances come and go; a counter kept modulo its current length stays fair
  // without having to track who was picked last.
  let next = 0;
  return {
    pick(candidates) {
      const n = candidates.length;
      if (n === 0) return undefined;
      const index = next % n;
      next = (index + 1) % n;
      return candidates[index];
    },
  };
}
