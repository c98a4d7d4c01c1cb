/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`), optionally only the samples of a time
 * window: where the busy time goes, by package and by function. Profile timestamps are µs of the
 * monotonic clock, the same as `process.hrtime.bigint() / 1000n` in any process of the machine.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  /** Sampled time in the window that was not idle, ms. */
  busyMs: number;
  idleMs: number;
  /** Self time by the package of the function that ran. */
  byPackage: Row[];
  /**
   * Time by the package of the nearest caller outside Node's core and native code: the work Node
   * does for a package (socket writes, crypto, timers) is counted to that package.
   */
  byCallerPackage: Row[];
  /** The same, by the nearest caller's function. */
  byCallerFunction: Row[];
  /** Self time by function. */
  topSelf: Row[];
}

const ROOT = /^file:\/\/.*?\/(?=(node_modules|packages|services)\/)/;
const CORE = /^(node:|\(|$)/;

/** `node:internal/streams`, `fastify`, `@bazaar/kit`, `(native)`, ... for a frame. */
export function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node:${parts[0] === 'internal' ? `internal/${parts[1] ?? ''}` : parts[0]}`;
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const ours = /\/(packages|services)\/([\w-]+)\//.exec(url);
  if (ours) return `${ours[1] === 'packages' ? '@bazaar/' : 'services/'}${ours[2]}`;
  if (url.startsWith('wasm://')) return '(wasm)';
  return url;
}

function functionOf(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url === '' || url.startsWith('node:') ? url || '(native)' : url.replace(ROOT, '');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
}

/** Reads and summarises one profile; only samples taken in [fromUs, toUs] when given. */
export function summarizeProfile(
  path: string,
  { fromUs = -Infinity, toUs = Infinity, top = 15 }: { fromUs?: number; toUs?: number; top?: number } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // A sample's duration is the delta to the next one.
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs || at > toUs) continue;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i + 1] ?? 0));
  }

  const callerOf = new Map<number, ProfileNode | undefined>();
  const nearestCaller = (n: ProfileNode): ProfileNode | undefined => {
    if (callerOf.has(n.id)) return callerOf.get(n.id);
    let found: ProfileNode | undefined;
    if (!CORE.test(n.callFrame.url) && !n.callFrame.url.startsWith('wasm://')) found = n;
    else {
      const p = parent.get(n.id);
      found = p === undefined ? undefined : nearestCaller(byId.get(p)!);
    }
    callerOf.set(n.id, found);
    return found;
  };

  let idleUs = 0;
  const add = (m: Map<string, number>, k: string, us: number) => m.set(k, (m.get(k) ?? 0) + us);
  const pkg = new Map<string, number>();
  const callerPkg = new Map<string, number>();
  const callerFn = new Map<string, number>();
  const self = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    add(pkg, packageOf(n.callFrame.url, n.callFrame.functionName), us);
    add(self, functionOf(n), us);
    const caller = nearestCaller(n);
    const gc = n.callFrame.functionName.startsWith('(');
    add(
      callerPkg,
      caller ? packageOf(caller.callFrame.url, '') : gc ? n.callFrame.functionName : '(node core, no caller)',
      us,
    );
    add(callerFn, caller ? functionOf(caller) : gc ? n.callFrame.functionName : '(node core, no caller)', us);
  }

  const busyUs = [...pkg.values()].reduce((a, b) => a + b, 0);
  const rows = (m: Map<string, number>): Row[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    byPackage: rows(pkg),
    byCallerPackage: rows(callerPkg),
    byCallerFunction: rows(callerFn),
    topSelf: rows(self),
  };
}
