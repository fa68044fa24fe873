/** The shapes the harness, the scenarios and the report share. */

/** What a figure is judged against: a peer measured in the same run, or a published limit. */
export interface Peer {
  label: string;
  value: number;
  unit?: string;
  kind: 'peer' | 'limit';
}

/** A target from the issue, on the value itself or on value / peer. */
export interface Target {
  on: 'value' | 'ratio';
  op: '<=' | '>=';
  value: number;
  label: string;
}

export interface Figure {
  /** Stable across runs (before/after tables join on it). */
  id: string;
  label: string;
  /** null when not measured (skipped or failed); `note` says why. */
  value: number | null;
  unit: string;
  peer?: Peer;
  /** value / peer.value */
  ratio?: number;
  target?: Target;
  pass?: boolean;
  note?: string;
}

export interface Chart {
  id: string;
  title: string;
  svg: string;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface ScenarioResult {
  name: string;
  title: string;
  /** How it was measured (Markdown). */
  method: string;
  durationMs: number;
  figures: Figure[];
  tables: Table[];
  charts: Chart[];
  notes: string[];
  /** Set when the scenario did not run (e.g. no Docker engine), with the reason. */
  skipped?: string;
  /** Raw measurements for the JSON (samples, per-step series). */
  data?: Record<string, unknown>;
}

export interface Ctx {
  quick: boolean;
  /** A scratch directory for this scenario (removed afterwards). */
  workDir: string;
  log(line: string): void;
}

export interface Scenario {
  name: string;
  title: string;
  /** Rough duration, for --list. */
  estimate: { quick: string; full: string };
  run(ctx: Ctx): Promise<Omit<ScenarioResult, 'name' | 'title' | 'durationMs'>>;
}

/** A figure with its ratio and verdict computed. */
export function figure(id: string, label: string, value: number | null, unit: string, extra: { peer?: Peer; target?: Target; note?: string } = {}): Figure {
  const f: Figure = { id, label, value, unit, ...extra };
  if (value !== null && extra.peer && extra.peer.value !== 0 && Number.isFinite(extra.peer.value)) f.ratio = value / extra.peer.value;
  if (value !== null && extra.target) {
    const v = extra.target.on === 'ratio' ? f.ratio : value;
    if (v !== undefined && Number.isFinite(v)) f.pass = extra.target.op === '<=' ? v <= extra.target.value : v >= extra.target.value;
  }
  return f;
}
