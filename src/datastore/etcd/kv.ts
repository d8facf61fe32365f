/**
 * The thin etcd shell: ranges, transactions and watch streams over etcd3's
 * generated gRPC clients, with keys/values as strings, revisions as numbers
 * and every failure translated (translate.ts). Everything above this file
 * (resource CRUD, the syncer, IPAM) is written against the `Kv` interface.
 */
import { Etcd3, type IKeyValue, type IRequestOp, type IWatchResponse } from 'etcd3';
import { etcdOptions, type DatastoreConfig } from '../config';
import { translateEtcdError } from './translate';

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the last write to the key (Calico's resourceVersion). */
  modRevision: number;
  createRevision: number;
}

/** A transaction guard: the key's mod revision must equal `modRevision` (0 = key absent). */
export interface ModRevisionGuard {
  key: string;
  modRevision: number;
}

export type TxnOp = { op: 'put'; key: string; value: string } | { op: 'delete'; key: string };

export interface TxnResult {
  succeeded: boolean;
  /** The store revision after the transaction (the mod revision of its writes). */
  revision: number;
  /** On failure: the current values of the guarded keys, in guard order. */
  current: Array<KeyValue | undefined>;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** The store revision the range was read at. */
  revision: number;
}

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface WatchHandlers {
  /** Every watch is created on the server. */
  onCreated(): void;
  /** `storeRevision`: the store's revision when etcd sent the batch (≥ the events'). */
  onEvents(watchIndex: number, events: WatchEvent[], storeRevision: number): void;
  /** A progress notification: the watch has seen everything up to `revision`. */
  onProgress(watchIndex: number, revision: number): void;
  /** The start revision was compacted away; history below `compactRevision` is gone. */
  onCompacted(compactRevision: number): void;
  /** The stream failed; it is closed and will deliver nothing more. */
  onError(err: Error): void;
}

export interface WatchRequest {
  prefix: string;
  startRevision: number;
}

export interface WatchStream {
  close(): void;
}

export interface Kv {
  get(key: string): Promise<KeyValue | undefined>;
  /** All keys under `prefix`, read at one revision (paginated underneath). */
  range(prefix: string, revision?: number): Promise<RangeResult>;
  /** If every guard holds, apply `ops` atomically. */
  txn(guards: readonly ModRevisionGuard[], ops: readonly TxnOp[]): Promise<TxnResult>;
  /** One gRPC stream with one watch per request. */
  watch(requests: readonly WatchRequest[], handlers: WatchHandlers): Promise<WatchStream>;
  /** Compact history up to `revision` (tests and maintenance). */
  compact(revision: number): Promise<void>;
  close(): void;
}

const PAGE = 500;

/** End of the key range that holds exactly the keys starting with `prefix`. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      const end = b.subarray(0, i + 1);
      end[i] = (b[i] as number) + 1;
      return Buffer.from(end);
    }
  }
  return Buffer.from([0]);
}

function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    modRevision: Number(kv.mod_revision),
    createRevision: Number(kv.create_revision),
  };
}

export class EtcdKv implements Kv {
  private readonly client: Etcd3;

  constructor(config: DatastoreConfig) {
    this.client = new Etcd3(etcdOptions(config));
  }

  async get(key: string): Promise<KeyValue | undefined> {
    try {
      const res = await this.client.kv.range({ key: Buffer.from(key) });
      const kv = res.kvs[0];
      return kv ? toKv(kv) : undefined;
    } catch (e) {
      throw translateEtcdError(e, `get ${key}`);
    }
  }

  async range(prefix: string, revision?: number): Promise<RangeResult> {
    const end = prefixEnd(prefix);
    const kvs: KeyValue[] = [];
    let from = Buffer.from(prefix);
    let rev = revision;
    try {
      for (;;) {
        const res = await this.client.kv.range({
          key: from,
          range_end: end,
          limit: PAGE,
          ...(rev !== undefined ? { revision: rev } : {}),
        });
        // Pin later pages to the first page's revision: one consistent snapshot.
        rev ??= Number(res.header.revision);
        for (const kv of res.kvs) kvs.push(toKv(kv));
        const last = res.kvs[res.kvs.length - 1];
        if (!res.more || !last) break;
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
    } catch (e) {
      throw translateEtcdError(e, `list ${prefix}`);
    }
    return { kvs, revision: rev ?? 0 };
  }

  async txn(guards: readonly ModRevisionGuard[], ops: readonly TxnOp[]): Promise<TxnResult> {
    const success: IRequestOp[] = ops.map((o) =>
      o.op === 'put'
        ? { request_put: { key: Buffer.from(o.key), value: Buffer.from(o.value) } }
        : { request_delete_range: { key: Buffer.from(o.key) } },
    );
    try {
      const res = await this.client.kv.txn({
        compare: guards.map((g) => ({ key: Buffer.from(g.key), target: 'Mod', result: 'Equal', mod_revision: String(g.modRevision) })),
        success,
        // On failure read the guarded keys back so the caller can tell
        // "gone" from "changed" without another round trip.
        failure: guards.map((g) => ({ request_range: { key: Buffer.from(g.key) } })),
      });
      const current = res.succeeded
        ? []
        : res.responses.map((r) => {
            const kv = r.response_range?.kvs[0];
            return kv ? toKv(kv) : undefined;
          });
      return { succeeded: res.succeeded, revision: Number(res.header.revision), current };
    } catch (e) {
      throw translateEtcdError(e, 'transaction');
    }
  }

  async watch(requests: readonly WatchRequest[], handlers: WatchHandlers): Promise<WatchStream> {
    let stream: Awaited<ReturnType<Etcd3['watchClient']['watch']>>;
    try {
      stream = await this.client.watchClient.watch();
    } catch (e) {
      throw translateEtcdError(e, 'watch');
    }
    // etcd assigns watch ids in creation order on a stream; we create one at
    // a time (etcd3's AttachQueue does the same, for the same reason) and map
    // ids back to request indexes.
    const ids = new Map<string, number>();
    let closed = false;
    let next = 0;
    const fail = (err: unknown): void => {
      if (closed) return;
      closed = true;
      stream.cancel();
      handlers.onError(translateEtcdError(err, 'watch stream'));
    };
    const createNext = (): void => {
      const r = requests[next];
      if (!r) return;
      stream.write({
        create_request: {
          key: Buffer.from(r.prefix),
          range_end: prefixEnd(r.prefix),
          start_revision: String(r.startRevision),
          progress_notify: true,
        },
      });
    };
    stream.on('data', (res: IWatchResponse) => {
      if (closed) return;
      try {
        if (res.compact_revision && Number(res.compact_revision) > 0) {
          closed = true;
          stream.cancel();
          handlers.onCompacted(Number(res.compact_revision));
          return;
        }
        if (res.created) {
          if (res.canceled) return fail(new Error(`watch refused: ${res.cancel_reason || 'canceled'}`));
          ids.set(res.watch_id, next);
          next++;
          if (next < requests.length) createNext();
          else handlers.onCreated();
          return;
        }
        const index = ids.get(res.watch_id);
        if (index === undefined) return;
        if (res.canceled) return fail(new Error(`watch canceled: ${res.cancel_reason || 'no reason given'}`));
        if (res.events.length === 0) {
          handlers.onProgress(index, Number(res.header.revision));
          return;
        }
        handlers.onEvents(
          index,
          res.events.map((ev) => ({ type: ev.type === 'Delete' ? 'delete' : 'put', kv: toKv(ev.kv) })),
          Number(res.header.revision),
        );
      } catch (e) {
        // A handler bug must not look like an etcd outage; surface it.
        setImmediate(() => {
          throw e;
        });
      }
    });
    stream.on('error', fail);
    stream.on('end', () => fail(new Error('watch stream ended')));
    createNext();
    return {
      close: () => {
        if (closed) return;
        closed = true;
        stream.cancel();
      },
    };
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision: String(revision), physical: true });
    } catch (e) {
      throw translateEtcdError(e, `compact ${revision}`);
    }
  }

  close(): void {
    this.client.close();
  }
}
