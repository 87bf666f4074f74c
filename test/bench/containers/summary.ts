/** The container bench's results as Markdown tables: medians, with the range of the runs beside them. */
import type { BenchResults } from './bench.js';

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

const cell = (values: readonly number[]): string =>
  values.length === 0 ? '–' : `${Math.round(median(values))} (${Math.min(...values)}–${Math.max(...values)})`;

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

/** Markdown tables of scenarios A, B and C: `median (min–max)` in ms, memory in MiB. */
export function summarize(results: BenchResults): string {
  const lines: string[] = [];
  const drivers = unique(results.storms.map((s) => s.driver));
  const sizes = unique(results.storms.map((s) => s.containers));
  lines.push('Scenario A, ms from the crash to all containers running again, median (min–max) of the rounds:', '');
  lines.push(`| containers | ${drivers.join(' | ')} |`, `|---|${drivers.map(() => '---').join('|')}|`);
  for (const size of sizes) {
    const row = drivers.map((driver) =>
      cell(results.storms.filter((s) => s.driver === driver && s.containers === size).map((s) => s.allRunningAgainMs)),
    );
    lines.push(`| ${size} | ${row.join(' | ')} |`);
  }
  lines.push('', 'The same, the median container:', '');
  lines.push(`| containers | ${drivers.join(' | ')} |`, `|---|${drivers.map(() => '---').join('|')}|`);
  for (const size of sizes) {
    const row = drivers.map((driver) =>
      cell(
        results.storms.filter((s) => s.driver === driver && s.containers === size).map((s) => s.medianRunningAgainMs),
      ),
    );
    lines.push(`| ${size} | ${row.join(' | ')} |`);
  }
  if (results.daemonRestarts.length > 0) {
    lines.push('', 'Scenario B, ms after the new daemon was spawned, median (min–max):', '');
    lines.push(
      '| driver | old daemon | containers | API ready | first SIGTERM | all running again |',
      '|---|---|---|---|---|---|',
    );
    for (const driver of unique(results.daemonRestarts.map((r) => r.driver)))
      for (const how of ['kill', 'stop'] as const) {
        const runs = results.daemonRestarts.filter((r) => r.driver === driver && r.how === how);
        if (runs.length === 0) continue;
        const terms = runs.flatMap((r) => (r.firstTermMs === null ? [] : [r.firstTermMs]));
        const label = how === 'kill' ? 'SIGKILL' : 'SIGTERM';
        lines.push(
          `| ${driver} | ${label} | ${runs[0]?.containers} | ${cell(runs.map((r) => r.readyMs))} | ${cell(terms)} | ${cell(runs.map((r) => r.allRunningAgainMs))} |`,
        );
      }
  }
  lines.push('', 'Scenario C, the runtime’s own memory with the containers running (MiB):', '');
  lines.push('| driver | containers | processes | RSS | PSS | by program (RSS) |', '|---|---|---|---|---|---|');
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  for (const m of results.memory) {
    const parts = Object.entries(m.byProgram).map(([program, p]) => `${program} ×${p.processes}: ${mib(p.rssKiB)}`);
    lines.push(
      `| ${m.driver} | ${m.containers} | ${m.total.processes} | ${mib(m.total.rssKiB)} | ${mib(m.total.pssKiB)} | ${parts.join(', ')} |`,
    );
  }
  return lines.join('\n');
}
