import { percentile } from "./stats.ts";

const COLORS = ["#d1495b", "#00798c", "#edae49", "#66a182", "#2e4057"];

/**
 * An SVG of latency distributions: for each series, the latency (x, log scale) below which a share
 * of requests (y) completed.
 */
export function latencyPlot(title: string, series: Record<string, number[]>): string {
  const width = 760;
  const height = 420;
  const margin = { left: 60, right: 20, top: 64, bottom: 50 };
  const all = Object.values(series)
    .flat()
    .filter((v) => v > 0);
  const min = Math.max(0.05, percentile(all, 0.5));
  const max = percentile(all, 99.9);
  const logMin = Math.log10(min);
  const logMax = Math.log10(max);
  const x = (ms: number) =>
    margin.left + ((Math.log10(Math.min(Math.max(ms, min), max)) - logMin) / (logMax - logMin)) * (width - margin.left - margin.right);
  const y = (share: number) => height - margin.bottom - share * (height - margin.top - margin.bottom);
  const ticks: number[] = [];
  for (let e = Math.floor(logMin); e <= Math.ceil(logMax); e++) for (const m of [1, 2, 5]) ticks.push(m * 10 ** e);
  const shown = ticks.filter((t) => t >= min && t <= max);
  const lines = Object.entries(series).map(([name, values], index) => {
    const points = Array.from({ length: 101 }, (_, p) => `${x(percentile(values, Math.max(p, 0.1))).toFixed(1)},${y(p / 100).toFixed(1)}`);
    const color = COLORS[index % COLORS.length];
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.join(" ")}"/>` +
      `<text x="${margin.left + index * 172}" y="46" fill="${color}" font-size="12">${name} (p50 ${percentile(values, 50).toFixed(2)} ms)</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin.left}" y="24" font-size="15">${title}</text>`,
    ...shown.map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="${y(0)}" y2="${y(1)}" stroke="#eee"/><text x="${x(t)}" y="${height - margin.bottom + 18}" font-size="11" text-anchor="middle">${t}</text>`,
    ),
    ...[0, 0.25, 0.5, 0.75, 1].map(
      (s) =>
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(s)}" y2="${y(s)}" stroke="#eee"/><text x="${margin.left - 8}" y="${y(s) + 4}" font-size="11" text-anchor="end">${s * 100}%</text>`,
    ),
    `<text x="${(width + margin.left) / 2}" y="${height - 10}" font-size="12" text-anchor="middle">latency, ms (log scale)</text>`,
    `<text x="16" y="${(height + margin.top) / 2}" font-size="12" transform="rotate(-90 16 ${(height + margin.top) / 2})" text-anchor="middle">requests completed</text>`,
    ...lines,
    "</svg>",
  ].join("\n");
}
