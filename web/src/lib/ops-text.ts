/** The ops console's numbers and times in words. */
import type { OpsPoint } from '@bazaar/contracts';

/** How long ago `iso` was, coarsely: "2 s ago", "3 min ago", "5 h ago". */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(seconds)) return 'unknown';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

/** A traffic point in words: "12.3 req/s, 0% errors, p99 45 ms". */
export function describePoint(point: OpsPoint): string {
  const errors = Math.round(point.errorRate * 1000) / 10;
  const p99 = point.p99Ms === null ? 'p99 not measured' : `p99 ${Math.round(point.p99Ms)} ms`;
  return `${point.requestRate.toFixed(1)} req/s, ${errors}% errors, ${p99}`;
}

/** A duration for people: "0.42 ms", "12.3 ms", "245 ms", "1.25 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1) return `${trimmed(ms.toFixed(2))} ms`;
  if (ms < 100) return `${trimmed(ms.toFixed(1))} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${trimmed((ms / 1000).toFixed(2))} s`;
}

/** An alert's measured value: whole numbers as they are, others to three significant digits. */
export function formatAlertValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

/** "1.50" → "1.5", "2.00" → "2". */
function trimmed(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}
