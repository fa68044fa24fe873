/**
 * Prints meta.k8s.io/v1 Tables the way kubectl's HumanReadablePrinter does
 * (k8s.io/cli-runtime/pkg/printers/tableprinter.go): upper-cased headers,
 * priority > 0 columns only when wide, NAMESPACE first for all-namespaces
 * listings, LABELS (and -L label columns) last, `kind.group/name` names when
 * several kinds are printed, and no header for a table without rows.
 */
import type { ObjectMeta } from '../api/object.js';
import type { TabWriter } from './tabwriter.js';

export interface TableColumnDefinition {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
}

export interface TableRow {
  cells: unknown[];
  object?: { metadata?: ObjectMeta } | null;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumnDefinition[] | null;
  rows: TableRow[] | null;
}

export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';

export interface TablePrintOptions {
  wide?: boolean;
  noHeaders?: boolean;
  withNamespace?: boolean;
  showLabels?: boolean;
  /** Label keys shown as extra columns (`-L`). */
  labelColumns?: readonly string[];
  /** `kind` or `kind.group`, lower-case, prefixed to names when several kinds are printed. */
  kindPrefix?: string;
}

export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Table';
}

/** labels.FormatLabels: sorted `k=v` pairs, or `<none>`. */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** How Go's fmt.Sprint shows a decoded JSON cell; strings stop at the first line break. */
export function formatCell(cell: unknown): string {
  if (typeof cell === 'string') {
    const cut = cell.search(/[\f\n\r]/);
    return cut >= 0 ? `${cell.slice(0, cut)}...` : cell;
  }
  if (cell === null || cell === undefined) return '<nil>';
  if (typeof cell === 'number' || typeof cell === 'boolean') return String(cell);
  return JSON.stringify(cell);
}

function labelHeader(key: string): string {
  const parts = key.split('/');
  return parts[parts.length - 1]!.toUpperCase();
}

/**
 * Keeps the state kubectl's printer keeps between tables of one kind: a
 * table whose columns equal the last printed ones gets no second header.
 */
export class TablePrinter {
  private lastColumns: TableColumnDefinition[] | undefined;
  private printedHeaders = false;

  constructor(private readonly opts: TablePrintOptions) {}

  print(table: Table, w: TabWriter): void {
    let columns = table.columnDefinitions ?? [];
    let noHeaders = this.opts.noHeaders ?? false;
    const same = this.lastColumns !== undefined && JSON.stringify(columns) === JSON.stringify(this.lastColumns);
    if (this.printedHeaders && (columns.length === 0 || same)) noHeaders = true;
    if (columns.length === 0) columns = this.lastColumns ?? [];
    else if (!same) {
      this.lastColumns = columns;
      this.printedHeaders = false;
    }
    const rows = table.rows ?? [];
    if (rows.length > 0) this.printedHeaders = true;
    if (rows.length === 0) return;

    const o = this.opts;
    const labelKeys = o.labelColumns ?? [];
    const nameColumn = o.kindPrefix ? columns.findIndex((c) => c.format === 'name' && c.type === 'string') : -1;
    const shown = columns.map((c) => (c.priority ?? 0) === 0 || (o.wide ?? false));

    if (!noHeaders) {
      const headers: string[] = [];
      if (o.withNamespace) headers.push('NAMESPACE');
      columns.forEach((c, i) => shown[i] && headers.push(c.name.toUpperCase()));
      headers.push(...labelKeys.map(labelHeader));
      if (o.showLabels) headers.push('LABELS');
      w.write(`${headers.join('\t')}\n`);
    }
    for (const row of rows) {
      const meta = row.object?.metadata;
      const cells: string[] = [];
      if (o.withNamespace) cells.push(meta ? (meta.namespace ?? '') : '<nil>');
      columns.forEach((_, i) => {
        if (!shown[i]) return;
        const text = formatCell(row.cells[i]);
        cells.push(i === nameColumn ? `${o.kindPrefix}/${text}` : text);
      });
      for (const key of labelKeys) cells.push(meta?.labels?.[key] ?? '');
      if (o.showLabels) cells.push(formatLabels(meta?.labels));
      w.write(`${cells.join('\t')}\n`);
    }
  }
}
