/** The container bench's results as Markdown tables: medians, with the range of the runs beside them. */
import type { BenchResults } from './bench.js';
import { type Goal, goalsOf, median, perContainerKiB } from './goals.js';

const cell = (values: readonly number[]): string =>
  values.length === 0 ? '–' : `${Math.round(median(values) as number)} (${Math.min(...values)}–${Math.max(...values)})`;

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

const mib = (kib: number): string => (kib / 1024).toFixed(1);

const times = (value: number | undefined): string => (value === undefined ? '–' : `${value.toFixed(2)}×`);

const figure = (value: number | undefined, unit: Goal['unit']): string =>
  value === undefined ? '–' : unit === 'ms' ? `${Math.round(value)} ms` : `${value.toFixed(2)} MiB`;

const verdict = (goal: Goal): string =>
  goal.met === undefined
    ? goal.goal === '—'
      ? '—'
      : 'not checked (a side did not run)'
    : goal.met
      ? 'met'
      : '**not met**';

/** The goals table: each library figure beside the floor (ratio) and dockerd (speed-up). */
export function goalsTable(results: BenchResults): string[] {
  return [
    '| figure | library | floor | library ÷ floor | dockerd | dockerd ÷ library | goal | |',
    '|---|---|---|---|---|---|---|---|',
    ...goalsOf(results).map(
      (g) =>
        `| ${g.figure} | ${figure(g.library, g.unit)} | ${figure(g.floor, g.unit)} | ${times(g.ratio)} | ` +
        `${figure(g.dockerd, g.unit)} | ${times(g.speedUp)} | ${g.goal} | ${verdict(g)} |`,
    ),
  ];
}

/** Markdown tables of scenarios A, B and C (`median (min–max)` in ms, memory in MiB), then the goals. */
export function summarize(results: BenchResults): string {
  const lines: string[] = [];
  const drivers = unique(results.storms.map((s) => s.driver));
  const sizes = unique(results.storms.map((s) => s.containers));
  const stormTable = (title: string, key: 'allRunningAgainMs' | 'medianRunningAgainMs' | 'firstRunningAgainMs') => {
    lines.push(title, '');
    lines.push(`| containers | ${drivers.join(' | ')} |`, `|---|${drivers.map(() => '---').join('|')}|`);
    for (const size of sizes) {
      const row = drivers.map((driver) =>
        cell(results.storms.filter((s) => s.driver === driver && s.containers === size).map((s) => s[key])),
      );
      lines.push(`| ${size} | ${row.join(' | ')} |`);
    }
  };
  stormTable(
    'Scenario A, ms from the crash to all containers running again, median (min–max) of the rounds:',
    'allRunningAgainMs',
  );
  stormTable('\nThe same, the median container:', 'medianRunningAgainMs');
  stormTable('\nThe same, the first container:', 'firstRunningAgainMs');
  if (results.daemonRestarts.length > 0) {
    lines.push('', 'Scenario B, ms after the new daemon was spawned, median (min–max):', '');
    lines.push(
      '| driver | old daemon | containers | ready | first SIGTERM | all running again |',
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
    lines.push(
      '',
      'Ready: dockerd’s API answers; the library’s `restore()` has decided every container. Neither waits',
      'before restarting (the library’s daemon runs with `restoreDelayMs: 0`, dockerd’s restore has no delay).',
    );
  }
  lines.push('', 'Scenario C, the runtime’s own memory with the containers running (MiB):', '');
  lines.push(
    '| driver | containers | processes | RSS | PSS | private | by program (RSS / PSS / private) |',
    '|---|---|---|---|---|---|---|',
  );
  for (const m of results.memory) {
    const parts = Object.entries(m.byProgram).map(
      ([program, p]) => `${program} ×${p.processes}: ${mib(p.rssKiB)} / ${mib(p.pssKiB)} / ${mib(p.privateKiB)}`,
    );
    const { processes, rssKiB, pssKiB, privateKiB } = m.total;
    lines.push(
      `| ${m.driver} | ${m.containers} | ${processes} | ${mib(rssKiB)} | ${mib(pssKiB)} | ${mib(privateKiB)} | ${parts.join(', ')} |`,
    );
  }
  const each = (kib: number | undefined): string => (kib === undefined ? '–' : `${kib.toFixed(0)} KiB`);
  const slopes = unique(results.memory.map((m) => m.driver)).map((driver) => {
    const hasNode = results.memory.some((m) => m.driver === driver && 'node' in m.byProgram);
    const node = hasNode ? `, its node process ${each(perContainerKiB(results, driver, 'privateKiB', 'node'))}` : '';
    return `${driver} ${each(perContainerKiB(results, driver, 'pssKiB'))} PSS${node} private`;
  });
  // Private memory is no measure of the runc processes together: their shared text is private to the first one.
  lines.push('', `Each more running container, from the two counts: ${slopes.join('; ')}.`);
  lines.push('', 'Goals (medians of the rounds):', '', ...goalsTable(results));
  return lines.join('\n');
}
