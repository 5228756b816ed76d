// `langfuse-otel-bridge convert <batch.json|-> [--mapping NAME|FILE] [--format otlp-json|tree]`:
// prints what the bridge would export for one ingestion body, offline. Runs the real stages in
// process (validation, assembly's merge rules, mapRecord, the export stage's OTLP/JSON
// serializer); sends nothing, stores nothing.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { mapRecord } from '../mapping/apply-mapping.js';
import { compileMapping } from '../mapping/compile-mapping.js';
import { loadMapping, MappingError } from '../mapping/load-mapping.js';
import { toOtlpJsonRequest } from '../export/otlp-json.js';
import { BRIDGE_VERSION } from '../version.js';
import { readAll, type CliIo } from './cli-io.js';
import { toOfflineRecords } from './offline-records.js';
import { formatSpanTree } from '../export/console-span-sink.js';

export const CONVERT_USAGE = `Usage: langfuse-otel-bridge convert <batch.json|-> [--mapping NAME|FILE] [--format otlp-json|tree]

Prints the spans the bridge would export for one Langfuse ingestion body ({"batch": [...],
"metadata": {...}}, as a client POSTs it to /api/public/ingestion), without a backend.
Every entity counts as complete: an observation without an end is shown as incomplete.

  <batch.json|->          the body, from a file or "-" for standard input
  --mapping NAME|FILE     a preset (genai, openinference, langfuse) or a mapping file; default genai
  --format otlp-json      the OTLP/JSON trace request (default)
  --format tree           a readable tree of spans and attributes
  --no-content            drop inputs, outputs and messages (BRIDGE_CAPTURE_CONTENT=false)
  --no-estimate-cost      no cost estimate from usage (BRIDGE_ESTIMATE_COST=false)
  -h, --help              this text

Exit status: 0 when every event was valid, 1 when some were rejected (listed on stderr; the
rest is still printed), 2 for bad arguments, unreadable input or a bad mapping.
`;

export async function runConvert(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        mapping: { type: 'string', default: 'genai' },
        format: { type: 'string', default: 'otlp-json' },
        'no-content': { type: 'boolean', default: false },
        'no-estimate-cost': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CONVERT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) return usageError(io, 'expected exactly one input: a file or "-"');
  if (values.format !== 'otlp-json' && values.format !== 'tree') return usageError(io, `--format: expected otlp-json or tree (actual: '${values.format}')`);

  const input = positionals[0]!;
  let text: string;
  try {
    text = input === '-' ? await readAll(io.stdin) : await readFile(path.resolve(io.cwd, input), 'utf8');
  } catch (error) {
    io.stderr.write(`convert: cannot read ${input}: ${(error as Error).message}\n`);
    return 2;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    io.stderr.write(`convert: ${input} is not JSON: ${(error as Error).message}\n`);
    return 2;
  }

  let mapping;
  try {
    mapping = compileMapping(loadMapping(values.mapping, io.cwd), { captureContent: !values['no-content'], estimateCost: !values['no-estimate-cost'] });
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    io.stderr.write(`convert: ${error.message}\n`);
    return 2;
  }

  const { records, rejected } = toOfflineRecords(body);
  const drafts = records.map((record) => mapRecord(mapping, record));
  io.stdout.write(
    values.format === 'tree'
      ? formatSpanTree(drafts)
      : `${JSON.stringify(toOtlpJsonRequest(drafts, { bridgeVersion: BRIDGE_VERSION }), null, 2)}\n`,
  );
  for (const rejection of rejected) io.stderr.write(`convert: rejected event ${JSON.stringify(rejection)}\n`);
  io.stderr.write(`convert: ${drafts.length} span(s), ${rejected.length} event(s) rejected\n`);
  return rejected.length > 0 ? 1 : 0;
}

function usageError(io: CliIo, message: string): number {
  io.stderr.write(`convert: ${message}\n\n${CONVERT_USAGE}`);
  return 2;
}
