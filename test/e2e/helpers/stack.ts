/**
 * The usual e2e stack in one call: a Jaeger, the bridge exporting to it, and a recording proxy
 * in front of the bridge (what the client sent, what the bridge answered). `stop()` takes it
 * down in reverse order and checks that the bridge exits 0 on SIGTERM.
 */
import { expect } from 'vitest';
import { startBridge, type Bridge } from './bridge.js';
import { startInterceptingProxy, type StubServer } from './http-stubs.js';
import { startJaeger, type Jaeger } from './jaeger.js';

export interface Stack {
  jaeger: Jaeger;
  bridge: Bridge;
  /** Point the client here: it forwards to the bridge and records every exchange. */
  proxy: StubServer;
  stop(): Promise<void>;
}

export async function startStack(name: string, traceIdleMs: number): Promise<Stack> {
  const jaeger = await startJaeger(`jaeger-${name}`);
  let bridge: Bridge | undefined;
  try {
    bridge = await startBridge({ otlpEndpoint: jaeger.otlpHttpUrl, name: `bridge-${name}`, traceIdleMs });
    const proxy = await startInterceptingProxy(bridge.url, () => undefined);
    const started = bridge;
    return {
      jaeger,
      bridge: started,
      proxy,
      stop: async () => {
        await proxy.close();
        const exit = await started.stop();
        await jaeger.stop();
        expect(exit, 'bridge exit on SIGTERM').toEqual({ code: 0, signal: null });
      },
    };
  } catch (err) {
    await bridge?.stop();
    await jaeger.stop();
    throw err;
  }
}
