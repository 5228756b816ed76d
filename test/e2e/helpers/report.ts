import fs from 'node:fs';
import path from 'node:path';
import { CACHE_DIR } from './paths.js';
import { renderTree, type FlatSpan } from './otlp.js';

const REPORT_DIR = path.join(CACHE_DIR, 'reports');

/**
 * Append the span tree Jaeger returned for a scenario to .e2e-cache/reports/<file>.txt, so a
 * run leaves a readable record of what was exported (the file is rewritten by each run of
 * the test file that calls resetReport first).
 */
export function resetReport(file: string): void {
  fs.mkdirSync(REPORT_DIR, { recursive: true });
  fs.writeFileSync(path.join(REPORT_DIR, `${file}.txt`), `# ${file} — ${new Date().toISOString()}\n`);
}

export function recordTree(file: string, label: string, traceId: string, spans: FlatSpan[]): void {
  fs.mkdirSync(REPORT_DIR, { recursive: true });
  fs.appendFileSync(path.join(REPORT_DIR, `${file}.txt`), `\n## ${label} (trace ${traceId})\n${renderTree(spans)}\n`);
}
