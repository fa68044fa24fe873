/**
 * Reads a Prometheus text exposition (what `GET /metrics` answers) with
 * parse-prometheus-text-format, and looks samples up by name and labels.
 *
 * That parser folds a histogram family into one unlabelled sample (it
 * drops the labels of `_bucket`, `_sum` and `_count`), so histogram TYPE
 * lines are dropped first: each of those series then parses as its own
 * family of labelled samples, `le` included.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  /** Every sample, in the order served. */
  samples: Sample[];
  /** The declared TYPE of each family (lower case: counter, gauge, histogram…). */
  types: Map<string, string>;
}

interface Family {
  name: string;
  metrics: { value?: string; labels?: Record<string, string> }[];
}

export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) types.set(m[1]!, m[2]!);
    if (!(m && m[2] === 'histogram')) kept.push(line);
  }
  const families = parsePrometheusTextFormat(kept.join('\n')) as Family[];
  const samples = families.flatMap((f) => f.metrics.map((s) => ({ name: f.name, labels: s.labels ?? {}, value: Number(s.value) })));
  return { samples, types };
}

/** Samples named `name` whose labels include `labels`. */
export function samplesOf(e: Exposition, name: string, labels: Record<string, string> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples' values (0 when none match). */
export function valueOf(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  return samplesOf(e, name, labels).reduce((sum, s) => sum + s.value, 0);
}
