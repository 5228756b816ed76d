// Wraps a store so that a write failing for lack of space releases the disk reserve: ingestion
// writes (new data) then fail as before and are answered 503, while every other write (deleting
// exported rows, tombstones, dead letters, queues) is tried once more, in the room the reserve
// left. Generic over the store's methods, so methods added to a port later are covered too.
// Must not know what the store holds.
import { isDiskFullError, type DiskReserve } from './disk-reserve.js';
import type { Store } from './store.js';

/** Methods that add new data: never retried on the reserve, which is kept for bookkeeping. */
const DEFAULT_INGEST_METHODS: readonly string[] = ['append'];

export function guardStoreWrites<T extends object>(store: T, reserve: DiskReserve, ingestMethods: readonly string[] = DEFAULT_INGEST_METHODS): T {
  const ingest = new Set(ingestMethods);
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      let fn = wrapped.get(property);
      if (!fn) {
        const method = value as (...args: unknown[]) => unknown;
        const retry = !ingest.has(String(property));
        fn = (...args: unknown[]) => {
          const onFull = (error: unknown, again: () => unknown): unknown => {
            if (!isDiskFullError(error)) throw error;
            reserve.diskFull();
            if (!retry) throw error;
            return again();
          };
          const call = () => method.apply(target, args);
          let result: unknown;
          try {
            result = call();
          } catch (error) {
            return onFull(error, call);
          }
          // A store method may be asynchronous (e.g. a streaming replay): same rule for rejections.
          if (result instanceof Promise) return result.catch((error: unknown) => onFull(error, call));
          return result;
        };
        wrapped.set(property, fn);
      }
      return fn;
    },
  });
}

/** Each port of a store guarded: appends to the log are ingestion writes, every other write bookkeeping. */
export function guardStore<S extends Store>(store: S, reserve: DiskReserve): S {
  return {
    ...store,
    log: guardStoreWrites(store.log, reserve),
    queue: guardStoreWrites(store.queue, reserve, []),
    exported: guardStoreWrites(store.exported, reserve, []),
  };
}
