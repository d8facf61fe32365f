/**
 * The kernel FIB across a thread boundary. The FibReconciler (its tables,
 * queue, netlink socket and the kernel's work inside sendmsg) runs in a
 * worker thread (fib-worker.ts → serveFib); the main thread keeps only a
 * FibClient, whose update() interns the next-hop text to a small id and
 * appends one compact record to a typed array, handed over once per slice
 * of RIB work. So a full table costs the event loop that runs the BGP
 * sessions ~0.1 µs per route, and the reconciler and the kernel work on
 * the other core meanwhile.
 *
 * Messages (structured clone; record batches transferred, not copied):
 *   client → host  { t: 'hops', first, list }          next-hop texts get ids first, first+1, ...
 *                  { t: 'forget' }                      drop every next-hop id (the client starts over)
 *                  { t: 'up', fam, data }               records [len, hops id (0 = none), key words...]
 *                  { t: 'call', id, op }                start | resync | idle | count
 *                  { t: 'stop' }
 *   host → client  { t: 'ret', id, value } | { t: 'ret', id, error }
 *                  { t: 'stats', counters, routes }     after changes (throttled) and before every ret
 *                  { t: 'failures', list, total }       failed operations (reported when the queue drains)
 *                  { t: 'error', code, message }        a periodic resync or a nexthop object failed
 *
 * The same code runs over a MessageChannel in one thread (unit tests, and
 * when there is no compiled worker script).
 */
import { TartanError } from '../../errors';
import { FibReconciler, type FibDriver } from './fib-reconciler';
import type { NexthopDriver } from './nexthop-objects';
import { NO_ROUTE, type FamilyIndex } from './nexthop-sets';

/** What both ends need of a MessagePort / Worker / parentPort. */
export interface FibPort {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  on(event: 'message', fn: (m: never) => void): unknown;
  /** Keep the event loop alive (while the client waits for an answer), or not. */
  ref?(): void;
  unref?(): void;
}

export interface FibHostOptions {
  protocol: number;
  table: number;
  metric: number;
  resyncIntervalMs: number;
  /** Program routes through kernel nexthop objects (needs a driver that can make them). */
  nexthopObjects?: boolean;
}

export type FibCall = 'start' | 'resync' | 'idle' | 'count';

export type ToHost =
  | { t: 'hops'; first: number; list: string[][] }
  | { t: 'forget' }
  | { t: 'up'; fam: FamilyIndex; data: Uint32Array }
  | { t: 'call'; id: number; op: FibCall }
  | { t: 'stop' };

export interface WireFailure {
  kind: 'add' | 'replace' | 'delete';
  prefix: string;
  metric: number;
  code: string;
  message: string;
}

export type FromHost =
  | { t: 'ret'; id: number; value?: unknown; error?: { code: string; message: string } }
  | { t: 'stats'; counters: FibReconciler['counters']; routes: number }
  | { t: 'failures'; list: WireFailure[]; total: number }
  | { t: 'error'; code: string; message: string };

/** Words per record before the key: prefix length, next-hop id. */
export const RECORD_HEAD = 2;

const STATS_INTERVAL_MS = 100;

/** Serve a FibReconciler on `port` until 'stop' (then `onStop`). */
export function serveFib(port: FibPort, opts: FibHostOptions, driver: FibDriver & Partial<NexthopDriver>, onStop: () => void = () => undefined): FibReconciler {
  /** The client's next-hop ids → our set ids (each holding one reference). */
  const sets = new Map<number, number>();
  const post = (m: FromHost): void => port.postMessage(m);
  const { nexthopObjects, ...reconcilerOpts } = opts;
  const nexthops = nexthopObjects ? nexthopDriverOf(driver) : undefined;
  const fib = new FibReconciler({
    driver,
    ...reconcilerOpts,
    ...(nexthops ? { nexthops, onNexthopError: (err: unknown) => post({ t: 'error', ...prefixed(wireError(err), 'nexthop object not made, its routes name their gateways: ') }) } : {}),
    onFailures: (list, total) =>
      post({ t: 'failures', list: list.map((f) => ({ kind: f.kind, prefix: f.prefix, metric: f.metric, code: f.error.code, message: f.error.message })), total }),
    onError: (err) => post({ t: 'error', ...prefixed(wireError(err), 'resync failed: ') }),
  });
  let lastStats = '';
  const sendStats = (): void => {
    const key = JSON.stringify(fib.counters) + fib.routeCount;
    if (key === lastStats) return;
    lastStats = key;
    post({ t: 'stats', counters: { ...fib.counters }, routes: fib.routeCount });
  };
  const timer = setInterval(sendStats, STATS_INTERVAL_MS);
  timer.unref();
  const reply = (id: number, p: Promise<unknown>): void => {
    p.then(
      (value) => {
        sendStats();
        post({ t: 'ret', id, value });
      },
      (err: unknown) => {
        sendStats();
        post({ t: 'ret', id, error: wireError(err) });
      },
    );
  };

  port.on('message', (m: ToHost) => {
    switch (m.t) {
      case 'hops':
        m.list.forEach((h, i) => sets.set(m.first + i, fib.acquireSet(h)));
        break;
      case 'forget':
        for (const id of sets.values()) fib.releaseSet(id);
        sets.clear();
        break;
      case 'up': {
        const d = m.data;
        const stride = RECORD_HEAD + (m.fam === 0 ? 1 : 4);
        for (let o = 0; o + stride <= d.length; o += stride) {
          const id = d[o + 1]!;
          fib.updateSet(m.fam, d, d[o]!, id === 0 ? NO_ROUTE : (sets.get(id) ?? NO_ROUTE), o + RECORD_HEAD);
        }
        break;
      }
      case 'call':
        reply(m.id, m.op === 'start' ? fib.start() : m.op === 'resync' ? fib.resync() : m.op === 'idle' ? fib.whenIdle() : fib.countKernelRoutes());
        break;
      case 'stop':
        clearInterval(timer);
        fib.stop();
        onStop();
        break;
      default:
        break;
    }
  });
  return fib;
}

function prefixed(e: { code: string; message: string }, prefix: string): { code: string; message: string } {
  return { code: e.code, message: prefix + e.message };
}

/** The driver as a NexthopDriver, if it has every method one needs (a fake kernel in tests may not). */
function nexthopDriverOf(d: Partial<NexthopDriver>): NexthopDriver | undefined {
  const { routeGet, addNexthop, deleteNexthop, dumpNexthops } = d;
  if (!routeGet || !addNexthop || !deleteNexthop || !dumpNexthops) return undefined;
  return { routeGet: routeGet.bind(d), addNexthop: addNexthop.bind(d), deleteNexthop: deleteNexthop.bind(d), dumpNexthops: dumpNexthops.bind(d) };
}

function wireError(err: unknown): { code: string; message: string } {
  if (err instanceof TartanError) return { code: err.code, message: err.message };
  return { code: 'FIB_ERROR', message: err instanceof Error ? err.message : String(err) };
}
