/**
 * The Langfuse JS SDK v5 (@langfuse/tracing + @langfuse/otel, devDependencies) used the way its
 * documentation shows: an OTel tracer provider with the LangfuseSpanProcessor, pointed at a
 * base URL (the bridge, or a capture server). It exports OTLP/JSON to
 * <baseUrl>/api/public/otel/v1/traces.
 *
 * One scenario: a root span (startActiveObservation) with a generation (model, parameters,
 * usage, cost, messages, completion start time) and an event inside propagateAttributes (trace
 * name, user, session, tags, metadata); then a score on the generation with @langfuse/client
 * (which sends it as a score-create ingestion event). Returns the ids the SDK chose so the test
 * can find the trace in Jaeger.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { LangfuseClient } from '@langfuse/client';
import { LangfuseSpanProcessor } from '@langfuse/otel';
import { propagateAttributes, startActiveObservation, startObservation } from '@langfuse/tracing';

export interface JsV5Result {
  traceId: string;
  traceName: string;
  userId: string;
  sessionId: string;
  tags: string[];
  rootSpanId: string;
  generationSpanId: string;
  eventSpanId: string;
  completionStartTime: Date;
  score: { name: string; value: number };
  messages: { input: Array<{ role: string; content: string }>; output: { role: string; content: string } };
}

export async function runJsV5Scenario(opts: { baseUrl: string; publicKey: string; secretKey: string; run: string }): Promise<JsV5Result> {
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const processor = new LangfuseSpanProcessor({
    baseUrl: opts.baseUrl,
    publicKey: opts.publicKey,
    secretKey: opts.secretKey,
    environment: 'e2e',
    release: `e2e-${opts.run}`,
  });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  trace.setGlobalTracerProvider(provider);
  const input = [
    { role: 'system', content: 'You are a terse assistant.' },
    { role: 'user', content: 'What is the capital of France?' },
  ];
  const output = { role: 'assistant', content: 'Paris.' };
  let completionStartTime = new Date(0);
  const attrs = {
    traceName: `e2e-js-v5-${opts.run}`,
    userId: `user-${opts.run}`,
    sessionId: `session-${opts.run}`,
    tags: ['e2e', 'js-sdk-v5'],
  };
  try {
    const ids = await startActiveObservation('js-pipeline', async (root) => {
      root.update({ input: { question: input[1]!.content } });
      const inner = await propagateAttributes({ ...attrs, metadata: { team: 'observability' } }, async () => {
        const gen = startObservation(
          'js-answer',
          { model: 'gpt-4o', input, modelParameters: { temperature: 0.2 } },
          { asType: 'generation' },
        );
        // The first chunk a few ms after the start (Date has ms resolution; the span start does not).
        await new Promise((resolve) => setTimeout(resolve, 5));
        completionStartTime = new Date();
        gen.update({ output, usageDetails: { input: 14, output: 2 }, costDetails: { total: 0.00005 }, completionStartTime });
        gen.end();
        const ev = startObservation('js-cache-hit', { input: { key: 'capital:fr' } }, { asType: 'event' });
        return { generationSpanId: gen.id, eventSpanId: ev.id };
      });
      root.update({ output: output.content });
      return { traceId: root.traceId, rootSpanId: root.id, ...inner };
    });
    await provider.forceFlush();
    const score = { name: 'relevance', value: 0.7 };
    const client = new LangfuseClient({ baseUrl: opts.baseUrl, publicKey: opts.publicKey, secretKey: opts.secretKey });
    client.score.create({ traceId: ids.traceId, observationId: ids.generationSpanId, ...score });
    await client.score.flush();
    return { ...attrs, ...ids, completionStartTime, score, messages: { input, output } };
  } finally {
    await provider.shutdown();
    trace.disable();
    context.disable();
  }
}
