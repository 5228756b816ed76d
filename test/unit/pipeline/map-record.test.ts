// The mapping stage as the pipeline runs it (src/pipeline/map-record.ts): a span is mapped with the
// destination's compiled mapping and encoded with its encoder into its own queue; a score goes to
// the scores queue of a destination with a scores API, and stays a span elsewhere.
import { describe, expect, it } from 'vitest';
import { compileDestinationMapping } from '../../../src/mapping/destination-mappings.js';
import { mapAndEncode, scoresQueueOf, type PipelineDestination } from '../../../src/pipeline/map-record.js';
import { decodeDrafts } from '../../helpers/draft-codec.js';
import { createInMemorySink } from '../../helpers/in-memory-sink.js';
import { observationRecord, scoreRecord } from '../../helpers/records.js';

const sink = createInMemorySink();
const genai: PipelineDestination = { name: 'jaeger', mapping: compileDestinationMapping({ name: 'jaeger', mapping: 'genai', captureContent: false }), encodeSpan: (d) => sink.encode(d) };
const decode = (payload: Uint8Array) => decodeDrafts(Buffer.from(payload).toString('utf8'))[0]!;

describe('map and encode', () => {
  it("maps a record with the destination's own mapping and capture_content, into its queue", () => {
    const queued = mapAndEncode(genai, observationRecord());
    expect(queued.queue).toBe('jaeger');
    expect(queued.draft).toEqual(decode(queued.payload));
    expect(queued.draft).toMatchObject({ name: 'chat gpt-4o', kind: 'CLIENT', attributes: { 'gen_ai.request.model': 'gpt-4o' } });
    expect(queued.draft!.attributes).not.toHaveProperty('gen_ai.input.messages');
  });

  it('sends scores to the scores queue only where there is a scores API', () => {
    expect(mapAndEncode(genai, scoreRecord()).queue).toBe('jaeger');
    const langfuse: PipelineDestination = { ...genai, name: 'lf', encodeScore: (score) => Buffer.from(score.id) };
    const queued = mapAndEncode(langfuse, scoreRecord());
    expect(queued).toEqual({ queue: scoresQueueOf('lf'), payload: Buffer.from('s-1') });
  });

  it("lets an encoder's failure through (the pipeline dead-letters the record)", () => {
    const failing: PipelineDestination = {
      ...genai,
      encodeSpan: () => {
        throw new Error('cannot encode');
      },
    };
    expect(() => mapAndEncode(failing, observationRecord())).toThrow('cannot encode');
  });
});
