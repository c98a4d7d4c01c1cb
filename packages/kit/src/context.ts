import { AsyncLocalStorage } from 'node:async_hooks';
import type { Deadline } from './client/deadline.ts';
import type { TraceContext } from './trace.ts';

/** What one request carries to every call it makes: ids, trace, deadline and the caller's tokens. */
export interface RequestContext {
  requestId: string;
  trace: TraceContext;
  deadline: Deadline;
  /** The end user's `Authorization` header, passed on for on-behalf-of calls. */
  authorization?: string | undefined;
  /** The route label of metrics, when a catch-all route knows better than its own template. */
  routeLabel?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the request being handled, if any. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` inside `context`, so calls it makes carry that context. */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Binds the context to the rest of the current async execution (used in a Fastify hook). */
export function enterContext(context: RequestContext): void {
  storage.enterWith(context);
}
