/**
 * `npm run bench`: every figure of the performance table, each measured in the same run as its floor
 * (and its peers), written to test/bench/results/latest.{json,md} and the storm chart storm.svg.
 */
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { benchDecision } from './decision.js';
import { type benchIdleManagers, type benchPending, type benchPendingFloor, inFreshProcesses } from './memory.js';
import { benchRestarts } from './restarts.js';
import { type StormResult, benchStorm } from './storm.js';

const results = new URL('results/', import.meta.url);
const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
};

console.log('decision…');
const decision = benchDecision();
console.log('idle managers…');
const idle = await inFreshProcesses<Awaited<ReturnType<typeof benchIdleManagers>>>('idle', 3);
console.log('pending restarts…');
const ours = await inFreshProcesses<Awaited<ReturnType<typeof benchPending>>>('pending', 5);
const floor = await inFreshProcesses<ReturnType<typeof benchPendingFloor>>('pending-floor', 5);
const pending = {
  ...ours,
  floorScheduleMs: floor.scheduleMs,
  floorBytesEach: floor.bytesEach,
  floorCancelMs: floor.cancelMs,
};
console.log('10k restarts…');
const restarts = await benchRestarts();
console.log('crash storm…');
const storm = await benchStorm();

const round = (value: number, digits = 1): string => value.toFixed(digits);
const ratio = (value: number, floor: number): string => `${round(value / floor, 2)}×`;
const rows: { figure: string; ours: string; floor: string; peers: string; target: string; met: boolean }[] = [
  {
    figure: 'pure `shouldRestart`, ns per decision',
    ours: `${round(decision.packageNs, 2)} ns (${ratio(decision.packageNs, decision.floorNs)})`,
    floor: `${round(decision.floorNs, 2)} ns`,
    peers: '—',
    target: '≤ 1.5× the floor',
    met: decision.packageNs <= 1.5 * decision.floorNs,
  },
  {
    figure: 'idle `RestartManager`, retained bytes (100k)',
    ours: `${round(idle.bytesEach, 0)} B`,
    floor: '—',
    peers: '—',
    target: '≤ 200 B',
    met: idle.bytesEach <= 200,
  },
  {
    figure: '100k pending restarts: schedule time',
    ours: `${round(pending.scheduleMs)} ms (${ratio(pending.scheduleMs, pending.floorScheduleMs)})`,
    floor: `${round(pending.floorScheduleMs)} ms`,
    peers: '—',
    target: '≤ 3× the floor',
    met: pending.scheduleMs <= 3 * pending.floorScheduleMs,
  },
  {
    figure: '100k pending restarts: retained bytes each',
    ours: `${round(pending.bytesEach, 0)} B (${ratio(pending.bytesEach, pending.floorBytesEach)})`,
    floor: `${round(pending.floorBytesEach, 0)} B`,
    peers: '—',
    target: '≤ 2× the floor',
    met: pending.bytesEach <= 2 * pending.floorBytesEach,
  },
  {
    figure: '100k pending restarts: cancel all',
    ours: `${round(pending.cancelMs)} ms (${ratio(pending.cancelMs, pending.floorScheduleMs)} the floor's schedule); ${pending.leftBehind} timers left`,
    floor: `${round(pending.floorCancelMs)} ms (clearTimeout)`,
    peers: '—',
    target: "≤ 3× the floor's schedule time, nothing left",
    met: pending.cancelMs <= 3 * pending.floorScheduleMs && pending.leftBehind === 0,
  },
  {
    figure: '10k restarts after 100 ms (new managers): wall time',
    ours: `${round(restarts.package.wallMs)} ms (${ratio(restarts.package.wallMs, restarts.floor.wallMs)})`,
    floor: `${round(restarts.floor.wallMs)} ms`,
    peers: `p-retry ${round(restarts.pRetry.wallMs)} ms, cockatiel ${round(restarts.cockatiel.wallMs)} ms`,
    target: '≤ 1.3× the floor, faster than both peers',
    met:
      restarts.package.wallMs <= 1.3 * restarts.floor.wallMs &&
      restarts.package.wallMs < restarts.pRetry.wallMs &&
      restarts.package.wallMs < restarts.cockatiel.wallMs,
  },
  {
    figure: '10k restarts after 100 ms (new managers): p99 lateness',
    ours: `${round(restarts.package.p99LatenessMs)} ms`,
    floor: `${round(restarts.floor.p99LatenessMs)} ms`,
    peers: `p-retry ${round(restarts.pRetry.p99LatenessMs)} ms, cockatiel ${round(restarts.cockatiel.p99LatenessMs)} ms`,
    target: '≤ floor + 10 ms',
    met: restarts.package.p99LatenessMs <= restarts.floor.p99LatenessMs + 10,
  },
  {
    figure: '10k restarts after 100 ms (managers that restarted before): wall time, p99 lateness',
    ours: `${round(restarts.packageSeasoned.wallMs)} ms (${ratio(restarts.packageSeasoned.wallMs, restarts.floor.wallMs)}), p99 ${round(restarts.packageSeasoned.p99LatenessMs)} ms`,
    floor: `${round(restarts.floor.wallMs)} ms, p99 ${round(restarts.floor.p99LatenessMs)} ms`,
    peers: '—',
    target: '≤ 1.3× the floor; ≤ floor + 10 ms',
    met:
      restarts.packageSeasoned.wallMs <= 1.3 * restarts.floor.wallMs &&
      restarts.packageSeasoned.p99LatenessMs <= restarts.floor.p99LatenessMs + 10,
  },
  {
    figure: `crash storm: ${storm.containers} containers (state on disk) exit in one tick`,
    ours: `all restarted ≤ ${round(storm.maxRestartLatencyMs, 0)} ms after the delay (p99 ${round(storm.p99RestartLatencyMs, 0)} ms); event-loop delay max ${round(storm.maxEventLoopDelayMs)} ms; every state write durable ${round(storm.stateWrittenMs / 1_000, 1)} s after the storm`,
    floor: '—',
    peers: '—',
    target: 'all within 2 s of the 100 ms delay; event-loop delay ≤ 100 ms',
    met: storm.containers === 5_000 && storm.maxRestartLatencyMs <= 2_000 && storm.maxEventLoopDelayMs <= 100,
  },
];

const markdown = [
  `Measured on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node.js ${machine.node}, ${machine.date}, by \`npm run bench\`.`,
  '',
  '| figure | this package | floor | peers | target | met |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    (row) =>
      `| ${row.figure} | ${row.ours} | ${row.floor} | ${row.peers} | ${row.target} | ${row.met ? 'yes' : '**no**'} |`,
  ),
  '',
].join('\n');

/** A chart of the storm: restarts started over time, and the event loop's delay. */
function stormSvg({ restartsOverTime, delayOverTime, containers }: StormResult): string {
  const width = 640;
  const height = 320;
  const pad = 48;
  const maxMs = Math.max(500, ...restartsOverTime.map(([atMs]) => atMs));
  const maxDelay = Math.max(100, ...delayOverTime.map(([, ms]) => ms));
  const x = (ms: number): number => pad + ((width - 2 * pad) * ms) / maxMs;
  const yCount = (count: number): number => height - pad - ((height - 2 * pad) * count) / containers;
  const yDelay = (ms: number): number => height - pad - ((height - 2 * pad) * ms) / maxDelay;
  const line = (points: [number, number][], y: (v: number) => number): string =>
    points.map(([atMs, value]) => `${round(x(atMs))},${round(y(value))}`).join(' ');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="white"/>
  <text x="${pad}" y="20">Crash storm: ${containers} containers exit at 0 ms (restart delay 100 ms)</text>
  <line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>
  <line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="black"/>
  <line x1="${width - pad}" y1="${pad}" x2="${width - pad}" y2="${height - pad}" stroke="black"/>
  <text x="${width / 2}" y="${height - 12}" text-anchor="middle">ms after the storm (0–${Math.round(maxMs)})</text>
  <text x="8" y="${pad - 8}" fill="steelblue">restarts (0–${containers})</text>
  <text x="${width - 8}" y="${pad - 8}" fill="firebrick" text-anchor="end">event-loop delay, ms (0–${Math.round(maxDelay)})</text>
  <line x1="${pad}" y1="${round(yDelay(100))}" x2="${width - pad}" y2="${round(yDelay(100))}" stroke="firebrick" stroke-dasharray="4 4"/>
  <polyline fill="none" stroke="steelblue" stroke-width="2" points="${line(restartsOverTime, yCount)}"/>
  <polyline fill="none" stroke="firebrick" stroke-width="1.5" points="${line(delayOverTime, yDelay)}"/>
</svg>
`;
}

await writeFile(
  new URL('latest.json', results),
  `${JSON.stringify({ machine, decision, idle, pending, restarts, storm, rows }, null, 2)}\n`,
);
await writeFile(new URL('latest.md', results), markdown);
await writeFile(new URL('storm.svg', results), stormSvg(storm));
console.log(`\n${markdown}`);
