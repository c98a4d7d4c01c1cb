/**
 * What the ops console asks of the gateway: the live services list, traffic series, kills, the
 * alerts of the embedded evaluator and the traces of the embedded collector.
 *
 * The live list comes from `GET /api/ops/watch`, a server-sent-events stream. `EventSource` cannot
 * send the `Authorization` header, so the stream is read with `fetch()` and its frames parsed
 * here (`parseSse`, a pure function). When the stream ends or fails the console keeps working:
 * it reconnects with a growing, jittered delay and polls `GET /api/ops/services` while it waits.
 */
import type {
  OpsAlertList,
  OpsMetrics,
  OpsServiceList,
  OpsTrace,
  OpsTraceList,
  OpsTraceQuery,
} from '@bazaar/contracts';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { session } from './session.ts';
import { backoffMs, parseSse } from './sse.ts';
import { traceQueryParams } from './traces.ts';

/** How the console is connected to the live stream. */
export type Connection = 'connecting' | 'live' | 'reconnecting';

/** What `watchServices` tells its caller. */
export interface WatchHandlers {
  /** A fresh services list, from the stream or from a fallback poll. */
  onServices(list: OpsServiceList): void;
  onConnection(state: Connection): void;
  /** A fallback poll failed (the stream's own failures only change the connection). */
  onPollError(err: unknown): void;
}

/** The stream sends the list every 5 s and a comment every 15 s; silence this long means it is gone. */
const IDLE_MS = 20_000;
/** While the stream is down, the list is polled this often. */
const POLL_MS = 5_000;
/** A stream that sends this much without finishing a frame is not one we can read. */
const MAX_BUFFER = 4_000_000;

/**
 * Follows the live services list until `signal` aborts: reads the stream, and whenever it ends or
 * fails, polls while waiting to reconnect. Never rejects.
 */
export async function watchServices(handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    handlers.onConnection(failures === 0 ? 'connecting' : 'reconnecting');
    let received = false;
    try {
      await readStream(signal, (list) => {
        received = true;
        handlers.onServices(list);
        handlers.onConnection('live');
      });
    } catch {
      // Told by the connection state below; the polls keep the list fresh meanwhile.
    }
    if (signal.aborted) return;
    failures = received ? 1 : failures + 1;
    handlers.onConnection('reconnecting');
    await pollFor(backoffMs(failures), handlers, signal);
  }
}

/** Reads one connection of the stream until it ends, fails, falls silent or `signal` aborts. */
async function readStream(signal: AbortSignal, onServices: (list: OpsServiceList) => void): Promise<void> {
  const connection = new AbortController();
  const stop = () => connection.abort();
  signal.addEventListener('abort', stop, { once: true });
  let idle = setTimeout(stop, IDLE_MS);
  try {
    const res = await openStream(connection.signal);
    if (!res.ok || !res.body) throw new Error(`the stream answered ${res.status}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      clearTimeout(idle);
      idle = setTimeout(stop, IDLE_MS);
      const parsed = parseSse(buffer + value);
      buffer = parsed.rest;
      if (buffer.length > MAX_BUFFER) throw new Error('the stream sent an endless frame');
      for (const event of parsed.events)
        if (event.event === 'services') onServices(JSON.parse(event.data) as OpsServiceList);
    }
  } finally {
    clearTimeout(idle);
    signal.removeEventListener('abort', stop);
    connection.abort();
  }
}

/** Opens the stream with the user's token, refreshing it once if the gateway refuses it. */
async function openStream(signal: AbortSignal): Promise<Response> {
  const open = (token: string | undefined) =>
    fetch('/api/ops/watch', {
      headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal,
      cache: 'no-store',
    });
  const res = await open(await session.accessToken());
  if (res.status !== 401 || !session.signedIn) return res;
  await res.body?.cancel();
  return open(await session.accessToken({ forceRefresh: true }));
}

/** Polls the services list every few seconds for `ms`, starting at once. */
async function pollFor(ms: number, handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  while (!signal.aborted) {
    try {
      handlers.onServices(await api<OpsServiceList>('/api/ops/services', { signal }));
    } catch (err) {
      if (!signal.aborted) handlers.onPollError(err);
    }
    const left = until - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(POLL_MS, left), signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The live services list of the console: null until the first one arrives. */
export function useOpsServices(): { list: OpsServiceList | null; connection: Connection; error: unknown } {
  const [list, setList] = useState<OpsServiceList | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const stop = new AbortController();
    void watchServices(
      {
        onServices: (next) => {
          setList(next);
          setError(null);
        },
        onConnection: setConnection,
        onPollError: setError,
      },
      stop.signal,
    );
    return () => stop.abort();
  }, []);
  return { list, connection, error };
}

/** Every service's traffic over the last `windowSeconds`, fetched again every 5 s. */
export function useOpsMetrics(windowSeconds = 900) {
  return useQuery({
    queryKey: ['ops', 'metrics', windowSeconds],
    queryFn: ({ signal }) => api<OpsMetrics>(`/api/ops/metrics?window=${windowSeconds}`, { signal }),
    refetchInterval: POLL_MS,
    staleTime: 0,
  });
}

/** Kills an instance's process; the supervisor starts it again. Only when the list is `killable`. */
export function killInstance(id: string): Promise<{ id: string; pid: number }> {
  return api(`/api/ops/instances/${encodeURIComponent(id)}/kill`, { method: 'POST' });
}

/** The current time, renewed every `everyMs` (for "2 s ago" that keeps counting). */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** The active alerts, firing first, fetched again every 5 s (one query for the page and the badge). */
export function useOpsAlerts() {
  return useQuery({
    queryKey: ['ops', 'alerts'],
    queryFn: ({ signal }) => api<OpsAlertList>('/api/ops/alerts', { signal }),
    refetchInterval: POLL_MS,
    staleTime: 0,
  });
}

/** The names of the registered services, for choosing one (the list as it was when asked). */
export function useServiceNames() {
  return useQuery({
    queryKey: ['ops', 'service-names'],
    queryFn: async ({ signal }) =>
      (await api<OpsServiceList>('/api/ops/services', { signal })).items.map((s) => s.name).sort(),
    staleTime: 60_000,
  });
}

/** The recent traces that match `query`, newest or slowest first, a page at a time ("More traces"). */
export function useTraces(query: OpsTraceQuery) {
  return useInfiniteQuery({
    queryKey: ['ops', 'traces', query],
    queryFn: ({ signal, pageParam }) => {
      const params = traceQueryParams(query);
      if (pageParam) params.set('cursor', pageParam);
      return api<OpsTraceList>(`/api/ops/traces?${params}`, { signal });
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    staleTime: 0,
  });
}

/** One trace with every span the collector kept. */
export function useTrace(traceId: string) {
  return useQuery({
    queryKey: ['ops', 'trace', traceId],
    queryFn: ({ signal }) => api<OpsTrace>(`/api/ops/traces/${encodeURIComponent(traceId)}`, { signal }),
    staleTime: 60_000,
  });
}
