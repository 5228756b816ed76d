// The one clock the pipeline and the export workers use: the time and the timers. Injected, so
// that tests drive time (a manual clock, or vitest's fake timers) instead of sleeping on it.

export interface Clock {
  now(): number;
  /** Calls `fn` after `millis`; the timer never keeps the process alive. Returns a cancel function. */
  setTimer(fn: () => void, millis: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, millis) {
    const timer = setTimeout(fn, Math.max(0, millis));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** Resolves after `millis` on `clock`. */
export function sleepOn(clock: Clock, millis: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(resolve, millis);
  });
}
