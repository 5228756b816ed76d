// Command-line flags for the benchmarks (node:util parseArgs) and their --help text.
import { parseArgs } from 'node:util';

/** Flags both benchmarks take. */
export const COMMON_FLAGS = {
  'trace-idle-ms': { type: 'string', default: '200', help: 'BRIDGE_TRACE_IDLE_MS (a root span waits this long)' },
  'drain-timeout-seconds': { type: 'string', default: '180', help: 'longest wait for every acknowledged span to reach the sink' },
  'bridge-cpu': { type: 'string', default: '0', help: 'core for the bridge' },
  'load-cpu': { type: 'string', default: '1', help: 'core for the load generator and the sink' },
  env: { type: 'string', multiple: true, default: [], help: 'extra bridge setting KEY=VALUE (repeatable)' },
  'node-flag': { type: 'string', multiple: true, default: [], help: "a flag for the bridge's node, e.g. --single-threaded-gc (repeatable)" },
  'cpu-prof-dir': { type: 'string', default: '', help: "write the bridge's CPU profiles (node --cpu-prof) into this directory" },
};

/** `spec`: name → { type, default, help, multiple? }. Exits after printing help on --help. */
export function parseFlags(usage, spec) {
  const all = { ...spec, help: { type: 'boolean', default: false, help: 'this text' } };
  const options = Object.fromEntries(Object.entries(all).map(([name, s]) => [name, { type: s.type, default: s.default, multiple: s.multiple ?? false }]));
  let values;
  try {
    ({ values } = parseArgs({ options }));
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (values.help) {
    const shown = (s) => (s.multiple || s.default === '' || s.type === 'boolean' ? '' : ` (default ${s.default})`);
    process.stdout.write(`${usage}\n${Object.entries(all).map(([name, s]) => `  --${name.padEnd(26)} ${s.help}${shown(s)}`).join('\n')}\n`);
    process.exit(0);
  }
  return values;
}

/** KEY=VALUE strings → an env object. */
export function envPairs(pairs) {
  return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}
