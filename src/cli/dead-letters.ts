// `dead-letters list` and `dead-letters retry` over an opened store. A letter of queue payloads is
// resent through its queue's sink (a destination's spans, or its scores); a letter holding a
// record that could not be mapped is mapped and encoded again with the destination's current
// mapping, and sent only once that succeeds: it is never sent as it is. A letter leaves the store
// only after the backend took it. Opening the store and the destinations is main.ts's.
import { decodeRecord } from '../assembly/record-codec.js';
import type { Destination } from '../export/destination.js';
import type { QueueSink } from '../export/span-sink.js';
import type { Logger } from '../logger.js';
import { mapAndEncode, scoresQueueOf, type PipelineDestination } from '../pipeline/map-record.js';
import type { DeadLetter, ExportQueue } from '../spool/export-queue.js';

/** One JSON line per letter; returns how many. */
export function listDeadLetters(queue: ExportQueue, write: (line: string) => void): number {
  const letters = queue.listDeadLetters();
  for (const letter of letters) {
    const bytes = letter.payloads.reduce((sum, p) => sum + p.byteLength, 0);
    write(
      `${JSON.stringify({ id: letter.id, createdAt: new Date(letter.createdAtMillis).toISOString(), destination: letter.destination, holds: letter.holds, spans: letter.spanCount, bytes, reason: letter.reason })}\n`,
    );
  }
  return letters.length;
}

/** Resends every letter it can; returns how many stay (still refused, or not resendable now). */
export async function retryDeadLetters(
  queue: ExportQueue,
  built: { destinations: readonly Destination[]; pipelineDestinations: readonly PipelineDestination[] },
  logger: Logger,
): Promise<number> {
  // Letters are kept under their queue: a destination's name, or `<name>@<tenant>` for a tenant's lane.
  const sinks = new Map<string, QueueSink>();
  for (const lane of built.destinations.flatMap((d) => d.lanes)) {
    sinks.set(lane.queue, lane.sink);
    if (lane.scores) sinks.set(scoresQueueOf(lane.queue), lane.scores.sink);
  }
  const mappers = new Map(built.pipelineDestinations.map((d) => [d.name, d]));
  let kept = 0;
  for (const letter of queue.listDeadLetters()) {
    const resend = letter.holds === 'record' ? remap(letter, mappers.get(letter.destination), logger) : { queue: letter.destination, payloads: letter.payloads };
    if (!resend) {
      kept++;
      continue;
    }
    const sink = sinks.get(resend.queue);
    if (!sink) {
      kept++;
      logger.warn({ id: letter.id, destination: letter.destination }, 'dead letter of a destination that is not configured; kept');
      continue;
    }
    const outcome = await sink.send(resend.payloads);
    if (outcome.kind === 'success') {
      queue.deleteDeadLetters([letter.id]);
      logger.info({ id: letter.id, spans: letter.spanCount }, 'dead letter resent');
    } else {
      kept++;
      logger.warn({ id: letter.id, outcome }, 'dead letter still refused; kept');
    }
  }
  return kept;
}

/** The record of a letter mapped and encoded again, or undefined (kept, logged) when it still cannot be. */
function remap(letter: DeadLetter, destination: PipelineDestination | undefined, logger: Logger): { queue: string; payloads: Uint8Array[] } | undefined {
  if (!destination) {
    logger.warn({ id: letter.id, destination: letter.destination }, 'dead letter of a destination that is not configured; kept');
    return undefined;
  }
  try {
    const item = mapAndEncode(destination, decodeRecord(Buffer.from(letter.payloads[0] ?? new Uint8Array()).toString('utf8')));
    return { queue: item.queue, payloads: [item.payload] };
  } catch (error) {
    logger.warn({ id: letter.id, reason: error instanceof Error ? error.message : String(error) }, 'dead letter record still cannot be mapped; kept');
    return undefined;
  }
}
