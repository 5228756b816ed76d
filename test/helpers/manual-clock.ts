// A Clock that moves only when a test says so; timers fire in time order as it passes them.
import type { Clock } from '../../src/clock.js';

export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in order (and letting their promises settle). */
  advance(millis: number): Promise<void>;
  /** Timers still waiting. */
  pendingTimers(): number;
}

export function createManualClock(startMillis = 0): ManualClock {
  let nowMillis = startMillis;
  let nextId = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    now: () => nowMillis,
    setTimer(fn, millis) {
      const id = nextId++;
      timers.set(id, { at: nowMillis + Math.max(0, millis), fn });
      return () => timers.delete(id);
    },
    pendingTimers: () => timers.size,
    async advance(millis) {
      const target = nowMillis + millis;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const entry of timers) if (entry[1].at <= target && (!next || entry[1].at < next[1].at)) next = entry;
        if (!next) break;
        timers.delete(next[0]);
        nowMillis = Math.max(nowMillis, next[1].at);
        next[1].fn();
        await settle();
      }
      nowMillis = target;
      await settle();
    },
  };
}
