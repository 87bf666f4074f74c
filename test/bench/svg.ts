/** The storm chart: restarts started over time, and the event loop's delay, as a hand-written SVG. */
import type { StormResult } from './storm.js';

const WIDTH = 720;
const HEIGHT = 360;
const LEFT = 64;
const RIGHT = 72;
const TOP = 52;
const BOTTOM = 48;

/** A round step for about `count` ticks over [0, max]. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw);
  return step ?? 10 * power;
}

function ticks(max: number, count: number): number[] {
  const step = tickStep(max, count);
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function stormSvg({
  restartsOverTime,
  delayOverTime,
  containers,
  maxEventLoopDelayMs,
  maxRestartLatencyMs,
}: StormResult): string {
  const lastMs = Math.max(restartsOverTime.at(-1)?.[0] ?? 0, delayOverTime.at(-1)?.[0] ?? 0);
  const maxMs =
    tickStep(Math.max(500, lastMs), 8) * Math.ceil(Math.max(500, lastMs) / tickStep(Math.max(500, lastMs), 8));
  const maxDelay = Math.max(100, ...delayOverTime.map(([, ms]) => ms)) * 1.1;
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (ms: number): number => LEFT + (plotW * Math.min(ms, maxMs)) / maxMs;
  const yCount = (count: number): number => TOP + plotH - (plotH * count) / containers;
  const yDelay = (ms: number): number => TOP + plotH - (plotH * ms) / maxDelay;
  const n = (value: number): string => value.toFixed(1);

  // Restarts: a step line (the count holds until the next sample).
  let restartPath = `M${n(x(0))},${n(yCount(0))}`;
  for (const [atMs, count] of restartsOverTime) restartPath += ` H${n(x(atMs))} V${n(yCount(count))}`;
  restartPath += ` H${n(x(maxMs))}`;
  // Event-loop delay: one bar per sampling slice, ending at its sample.
  let previousMs = 0;
  const bars = delayOverTime
    .map(([atMs, ms]) => {
      const bar = `<rect x="${n(x(previousMs))}" y="${n(yDelay(ms))}" width="${n(Math.max(0.5, x(atMs) - x(previousMs)))}" height="${n(yDelay(0) - yDelay(ms))}"/>`;
      previousMs = atMs;
      return bar;
    })
    .join('');

  const xTicks = ticks(maxMs, 8)
    .map(
      (ms) =>
        `<line x1="${n(x(ms))}" y1="${TOP}" x2="${n(x(ms))}" y2="${TOP + plotH}" stroke="#eee"/>` +
        `<text x="${n(x(ms))}" y="${TOP + plotH + 16}" text-anchor="middle">${ms}</text>`,
    )
    .join('');
  const countTicks = ticks(containers, 5)
    .map((count) => `<text x="${LEFT - 6}" y="${n(yCount(count) + 4)}" text-anchor="end">${count}</text>`)
    .join('');
  const delayTicks = ticks(maxDelay, 5)
    .map((ms) => `<text x="${LEFT + plotW + 6}" y="${n(yDelay(ms) + 4)}">${ms}</text>`)
    .join('');
  const title = escape(
    `Crash storm: ${containers} supervised containers (state on disk) exit at 0 ms; restart delay 100 ms`,
  );
  const subtitle = escape(
    `All restarted by ${Math.round(100 + maxRestartLatencyMs)} ms; event-loop delay max ` +
      `${maxEventLoopDelayMs.toFixed(1)} ms (monitorEventLoopDelay)`,
  );

  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">
  <title>${title}. ${subtitle}</title>
  <rect width="100%" height="100%" fill="white"/>
  <text x="${LEFT}" y="18" font-size="13">${title}</text>
  <text x="${LEFT}" y="34">${subtitle}</text>
  ${xTicks}
  <g fill="firebrick" fill-opacity="0.45">${bars}</g>
  <line x1="${LEFT}" y1="${n(yDelay(100))}" x2="${LEFT + plotW}" y2="${n(yDelay(100))}" stroke="firebrick" stroke-dasharray="4 4"/>
  <text x="${LEFT + plotW - 4}" y="${n(yDelay(100) - 4)}" fill="firebrick" text-anchor="end">event-loop delay limit (100 ms)</text>
  <line x1="${n(x(100))}" y1="${TOP}" x2="${n(x(100))}" y2="${TOP + plotH}" stroke="gray" stroke-dasharray="2 3"/>
  <text x="${n(x(100) + 4)}" y="${TOP + 12}" fill="gray">restarts due</text>
  <path d="${restartPath}" fill="none" stroke="steelblue" stroke-width="2"/>
  <rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="black"/>
  ${countTicks}
  ${delayTicks}
  <text x="${LEFT + plotW / 2}" y="${HEIGHT - 10}" text-anchor="middle">ms after the exits</text>
  <text x="16" y="${TOP + plotH / 2}" fill="steelblue" text-anchor="middle" transform="rotate(-90 16 ${TOP + plotH / 2})">restarts started</text>
  <text x="${WIDTH - 14}" y="${TOP + plotH / 2}" fill="firebrick" text-anchor="middle" transform="rotate(90 ${WIDTH - 14} ${TOP + plotH / 2})">event-loop delay (ms)</text>
</svg>
`;
}
