/**
 * Small, dependency-free SVG charts for the report: grouped bars (latency
 * percentiles side by side with their peers), lines (throughput against
 * cluster size) and latency distributions (CDFs). Every chart carries its
 * reference lines (limits) so a reader sees the figure and what it is
 * judged against in one picture.
 */

export interface RefLine {
  value: number;
  label: string;
}

const W = 720;
const H = 360;
const M = { top: 40, right: 170, bottom: 60, left: 70 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(3)}`;
  return `${+v.toPrecision(2)}`;
}

interface Scale {
  map(v: number): number;
  ticks: number[];
}

function linear(min: number, max: number, from: number, to: number): Scale {
  if (max <= min) max = min + 1;
  const step = niceStep((max - min) / 5);
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(+t.toPrecision(12));
  return { map: (v) => from + ((v - lo) / (hi - lo)) * (to - from), ticks };
}

function logScale(min: number, max: number, from: number, to: number): Scale {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e-9))));
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
  return { map: (v) => from + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (to - from), ticks };
}

function niceStep(raw: number): number {
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

function frame(title: string, body: string, legend: { name: string; color: string; dash?: boolean }[], yLabel: string, xLabel = ''): string {
  const items = legend
    .map((l, i) => {
      const y = M.top + 10 + i * 18;
      const line = l.dash
        ? `<line x1="${W - M.right + 12}" y1="${y - 4}" x2="${W - M.right + 30}" y2="${y - 4}" stroke="${l.color}" stroke-width="2" stroke-dasharray="5,3"/>`
        : `<rect x="${W - M.right + 12}" y="${y - 10}" width="18" height="10" fill="${l.color}"/>`;
      return `${line}<text x="${W - M.right + 36}" y="${y}" font-size="11">${esc(l.name)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2 - M.right / 2 + M.left / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
<text transform="translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yLabel)}</text>
${xLabel ? `<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>` : ''}
${body}${items}
</svg>
`;
}

function yAxis(scale: Scale): string {
  return scale.ticks
    .map((t) => {
      const y = scale.map(t);
      return `<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#e5e5e5"/><text x="${M.left - 6}" y="${y + 4}" text-anchor="end" font-size="10">${fmt(t)}</text>`;
    })
    .join('');
}

function refLines(scale: Scale, refs: RefLine[] | undefined): string {
  return (refs ?? [])
    .map((r) => {
      const y = scale.map(r.value);
      return `<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#d62728" stroke-width="1.5" stroke-dasharray="6,4"/><text x="${W - M.right - 4}" y="${y - 4}" text-anchor="end" font-size="10" fill="#d62728">${esc(r.label)}</text>`;
    })
    .join('');
}

/** Grouped bars: one group per category, one bar per series. Missing values (null) leave a gap. */
export function barChart(opts: {
  title: string;
  unit: string;
  groups: string[];
  series: { name: string; values: (number | null)[] }[];
  log?: boolean;
  refs?: RefLine[];
}): string {
  const all = opts.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v))).concat((opts.refs ?? []).map((r) => r.value));
  const max = Math.max(...all, 0);
  const min = Math.min(...all.filter((v) => v > 0), max);
  const scale = opts.log ? logScale(min, max, H - M.bottom, M.top) : linear(0, max, H - M.bottom, M.top);
  const gw = (W - M.left - M.right) / Math.max(1, opts.groups.length);
  const bw = Math.min(28, (gw - 10) / Math.max(1, opts.series.length));
  let bars = '';
  opts.groups.forEach((g, gi) => {
    const x0 = M.left + gi * gw + (gw - bw * opts.series.length) / 2;
    opts.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const y = scale.map(v);
      const base = opts.log ? H - M.bottom : scale.map(0);
      bars += `<rect x="${x0 + si * bw}" y="${Math.min(y, base)}" width="${bw - 2}" height="${Math.max(1, Math.abs(base - y))}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name} ${g}: ${fmt(v)} ${opts.unit}`)}</title></rect>`;
    });
    bars += `<text x="${M.left + gi * gw + gw / 2}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${esc(g)}</text>`;
  });
  const legend = opts.series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length]! }));
  return frame(opts.title, yAxis(scale) + bars + refLines(scale, opts.refs), legend, `${opts.unit}${opts.log ? ' (log scale)' : ''}`);
}

/** Lines through points (x ascending); optional log x. */
export function lineChart(opts: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][]; dash?: boolean }[];
  logX?: boolean;
  logY?: boolean;
  refs?: RefLine[];
}): string {
  const xs = opts.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = opts.series.flatMap((s) => s.points.map((p) => p[1])).concat((opts.refs ?? []).map((r) => r.value));
  const xScale = opts.logX ? logScale(Math.min(...xs), Math.max(...xs), M.left, W - M.right) : linear(Math.min(0, ...xs), Math.max(...xs), M.left, W - M.right);
  const yScale = opts.logY
    ? logScale(Math.min(...ys.filter((v) => v > 0)), Math.max(...ys), H - M.bottom, M.top)
    : linear(0, Math.max(...ys, 0), H - M.bottom, M.top);
  const xTicks = xScale.ticks.map((t) => `<text x="${xScale.map(t)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${fmt(t)}</text>`).join('');
  const lines = opts.series
    .map((s, i) => {
      const c = COLORS[i % COLORS.length]!;
      const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${xScale.map(p[0]).toFixed(1)},${yScale.map(p[1]).toFixed(1)}`).join('');
      const dots =
        s.points.length <= 40
          ? s.points
              .map(
                (p) =>
                  `<circle cx="${xScale.map(p[0])}" cy="${yScale.map(p[1])}" r="3" fill="${c}"><title>${esc(`${s.name}: ${fmt(p[0])} → ${fmt(p[1])}`)}</title></circle>`,
              )
              .join('')
          : '';
      return `<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${s.dash ? ' stroke-dasharray="5,3"' : ''}/>${dots}`;
    })
    .join('');
  const legend = opts.series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length]!, dash: true }));
  return frame(
    opts.title,
    yAxis(yScale) + xTicks + lines + refLines(yScale, opts.refs),
    legend,
    `${opts.yLabel}${opts.logY ? ' (log scale)' : ''}`,
    `${opts.xLabel}${opts.logX ? ' (log scale)' : ''}`,
  );
}

/** Latency distributions as CDFs: x = latency, y = fraction of samples at or below it. */
export function cdfChart(opts: {
  title: string;
  unit: string;
  series: { name: string; samples: number[] }[];
  refs?: { value: number; label: string }[];
}): string {
  const W2 = W - M.left - M.right;
  const all = opts.series.flatMap((s) => s.samples);
  const max = Math.max(...all, ...(opts.refs ?? []).map((r) => r.value), 1e-9);
  const x = linear(0, max, M.left, M.left + W2);
  const y = linear(0, 1, H - M.bottom, M.top);
  const lines = opts.series
    .map((s, i) => {
      const sorted = [...s.samples].sort((a, b) => a - b);
      const step = Math.max(1, Math.floor(sorted.length / 400));
      let d = '';
      for (let j = 0; j < sorted.length; j += step) d += `${d ? 'L' : 'M'}${x.map(sorted[j]!).toFixed(1)},${y.map((j + 1) / sorted.length).toFixed(1)}`;
      if (sorted.length) d += `L${x.map(sorted[sorted.length - 1]!).toFixed(1)},${y.map(1).toFixed(1)}`;
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>`;
    })
    .join('');
  const verticals = (opts.refs ?? [])
    .map(
      (r) =>
        `<line x1="${x.map(r.value)}" y1="${M.top}" x2="${x.map(r.value)}" y2="${H - M.bottom}" stroke="#d62728" stroke-dasharray="6,4"/><text x="${x.map(r.value) - 4}" y="${M.top + 12}" text-anchor="end" font-size="10" fill="#d62728">${esc(r.label)}</text>`,
    )
    .join('');
  const xTicks = x.ticks.map((t) => `<text x="${x.map(t)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${fmt(t)}</text>`).join('');
  const legend = opts.series.map((s, i) => ({ name: `${s.name} (n=${s.samples.length})`, color: COLORS[i % COLORS.length]!, dash: true }));
  return frame(opts.title, yAxis(y) + xTicks + lines + verticals, legend, 'fraction of pods', `latency (${opts.unit})`);
}
