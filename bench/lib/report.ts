import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';

/** A line of the throughput table; absent figures print as a dash. */
export interface ThroughputRow {
  scenario: string;
  reqPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** req/s over the bare route's req/s. */
  ratio?: number;
  /** The server's CPU time per response. */
  cpuUsPerRequest?: number;
  target: string;
  /** Undefined: reported, no target. */
  pass?: boolean;
}

/** A line of the resources table (start-up, memory, sockets). */
export interface ResourceRow {
  measurement: string;
  value: string;
  target: string;
  pass?: boolean;
}

export interface Report {
  title: string;
  /** One paragraph: machine, settings, pinning. */
  context: string;
  throughput: ThroughputRow[];
  resources: ResourceRow[];
  notes: string[];
}

const dash = '—';

function figure(value: number | undefined, digits = 1): string {
  if (value === undefined || Number.isNaN(value)) return dash;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function verdict(pass: boolean | undefined): string {
  if (pass === undefined) return dash;
  return pass ? 'pass' : '**FAIL**';
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdown(report: Report): string {
  const throughput = table(
    ['Scenario', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'CPU µs/req', 'Target', 'Result'],
    report.throughput.map((row) => [
      row.scenario,
      figure(row.reqPerSec, 0),
      figure(row.p50Ms),
      figure(row.p99Ms),
      row.ratio === undefined ? dash : `${Math.round(row.ratio * 100)}%`,
      figure(row.cpuUsPerRequest, 0),
      row.target,
      verdict(row.pass),
    ]),
  );
  const resources = table(
    ['Measurement', 'Value', 'Target', 'Result'],
    report.resources.map((row) => [row.measurement, row.value, row.target, verdict(row.pass)]),
  );
  return [
    `# ${report.title}`,
    report.context,
    ...(report.throughput.length > 0 ? [throughput] : []),
    ...(report.resources.length > 0 ? [resources] : []),
    report.notes.map((note) => `- ${note}`).join('\n'),
  ].join('\n\n');
}

/** Written as Prettier would (the repository's `prettier --check .` covers bench/). */
export async function writeFormatted(path: string, text: string): Promise<string> {
  const options = (await resolveConfig(path)) ?? {};
  const formatted = await format(text, { ...options, filepath: path });
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, formatted);
  return formatted;
}
