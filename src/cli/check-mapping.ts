// `langfuse-otel-bridge check-mapping <file>`: validates a mapping file (and what it extends) as
// the bridge does at startup, offline. A bad file is refused with the file name, the YAML path
// and what was expected, and a non-zero exit status.
import { parseArgs } from 'node:util';
import { compileMapping } from '../mapping/compile-mapping.js';
import { loadMapping, MappingError } from '../mapping/load-mapping.js';
import type { CliIo } from './cli-io.js';

export const CHECK_MAPPING_USAGE = `Usage: langfuse-otel-bridge check-mapping <file>

Validates a mapping file (and the files or presets it extends) exactly as the bridge does at
startup (BRIDGE_MAPPING). Each problem names the file, the YAML path and what was expected.

  <file>       a mapping file (.yaml) or a preset name
  -h, --help   this text

Exit status: 0 when the file is valid, 1 when it is not, 2 for bad arguments.
`;

export function runCheckMapping(argv: readonly string[], io: CliIo): number {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  } catch (error) {
    io.stderr.write(`check-mapping: ${(error as Error).message}\n\n${CHECK_MAPPING_USAGE}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout.write(CHECK_MAPPING_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.stderr.write(`check-mapping: expected exactly one mapping file\n\n${CHECK_MAPPING_USAGE}`);
    return 2;
  }
  const name = parsed.positionals[0]!;
  try {
    const resolved = loadMapping(name, io.cwd);
    // Compiling checks nothing more today, but it is what startup does next.
    compileMapping(resolved, { captureContent: true });
    io.stdout.write(`${name}: valid mapping (${resolved.sources.join(' → ')})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    for (const issue of error.issues) io.stderr.write(`${issue}\n`);
    io.stderr.write(`check-mapping: ${name} is not a valid mapping (${error.issues.length} problem(s))\n`);
    return 1;
  }
}
