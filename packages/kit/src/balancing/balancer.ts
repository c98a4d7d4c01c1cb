import { type Clock, systemClock } from '../time.ts';
import { createP2cEwma } from './p2c-ewma.ts';
import { createRoundRobin } from './round-robin.ts';

/** One instance as a balancer sees it; the client keeps `inflight` and `ewmaMs` up to date. */
export interface Endpoint {
  readonly id: string;
  /** Requests sent to this instance and not yet answered. */
  inflight: number;
  /** Moving average of its latency in ms (see `updateEwma`); 0 while there is no sample yet. */
  ewmaMs: number;
  /** When `ewmaMs` last took a sample (ms); lets a stale average fade at read time. */
  lastSampleAt?: number;
}

/** Chooses the instance for the next attempt among the usable ones. */
export interface Balancer<E extends Endpoint = Endpoint> {
  /** Returns one of `candidates`, or undefined when the list is empty. */
  pick(candidates: readonly E[]): E | undefined;
}

/** The balancers that config can name. */
export type BalancerName = 'round-robin' | 'p2c-ewma';

/** What a balancer may be given; only randomized balancers use `random`. */
export interface BalancerOptions {
  /** A source of numbers in [0, 1), injected so that tests are deterministic. */
  random?: () => number;
  /** Time source of latency-aware balancers. */
  clock?: Clock;
}

/** Creates the balancer that config names. */
export function createBalancer<E extends Endpoint = Endpoint>(
  name: BalancerName,
  { random = Math.random, clock = systemClock }: BalancerOptions = {},
): Balancer<E> {
  switch (name) {
    case 'round-robin':
      return createRoundRobin<E>();
    case 'p2c-ewma':
      return createP2cEwma<E>({ random, clock });
    default:
      throw new Error(`Unknown balancer: ${String(name satisfies never)}`);
  }
}
