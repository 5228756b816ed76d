// The one clock the pipeline and the export workers use: the time and the timers. Injected, so
// that tests drive time (a manual clock, or vitest's fake timers) instead of sleeping on it.

export interface Clock {
  now(): number;
  /**
   * Calls `fn` after `millis`. Returns a cancel function. The timer does not keep the process
   * alive unless `keepAlive` (the waits of a shutdown must: nothing else is left to).
   */
  setTimer(fn: () => void, millis: number, keepAlive?: boolean): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, millis, keepAlive = false) {
    const timer = setTimeout(fn, Math.max(0, millis));
    if (!keepAlive) timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `millis` on `clock`, keeping the process alive meanwhile (shutdown waits). */
export function sleepOn(clock: Clock, millis: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(resolve, millis, true);
  });
}
