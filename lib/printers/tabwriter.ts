/**
 * Go's text/tabwriter, the way kubectl configures it: text is cut into cells
 * at tabs, and each column of consecutive lines that have a cell there (a
 * "column block") is padded to its widest cell plus `padding`, at least
 * `minWidth`. The last cell of a line is never padded, so lines carry no
 * trailing blanks unless a tab-terminated empty cell put them there (kubectl
 * prints those too).
 *
 * `kubectl get` uses minWidth 6, padding 3; `kubectl describe` minWidth 0,
 * padding 2.
 */
export interface TabWriterOptions {
  minWidth: number;
  padding: number;
  /**
   * Column widths carry over from one flush to the next and only grow
   * (kubectl's RememberWidths, so `get -w` rows stay aligned with the header).
   */
  rememberWidths?: boolean;
}

export const GET_TABWRITER: TabWriterOptions = { minWidth: 6, padding: 3 };
export const DESCRIBE_TABWRITER: TabWriterOptions = { minWidth: 0, padding: 2 };

/** Width in code points, as Go's utf8.RuneCountInString counts it. */
function textWidth(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Lays out complete lines (cells split at tabs) into padded text lines. */
export function layoutCells(lines: readonly (readonly string[])[], opts: TabWriterOptions, remembered?: number[]): string[] {
  const widths: number[][] = lines.map(() => []);
  // Mirrors tabwriter.format: a block of column `column` is a run of lines in
  // [line0, line1) that each have a tab-terminated cell at that index; the
  // columns to its right are laid out within that run only.
  const format = (line0: number, line1: number, column: number): void => {
    let i = line0;
    while (i < line1) {
      if (column >= lines[i]!.length - 1) {
        i++;
        continue;
      }
      let width = opts.minWidth;
      let j = i;
      for (; j < line1 && column < lines[j]!.length - 1; j++) {
        width = Math.max(width, textWidth(lines[j]![column]!) + opts.padding);
      }
      if (remembered) {
        width = Math.max(width, remembered[column] ?? 0);
        remembered[column] = width;
      }
      for (let k = i; k < j; k++) widths[k]![column] = width;
      format(i, j, column + 1);
      i = j;
    }
  };
  format(0, lines.length, 0);
  return lines.map((cells, i) =>
    cells.map((cell, c) => (c < cells.length - 1 ? cell + ' '.repeat(Math.max(0, widths[i]![c]! - textWidth(cell))) : cell)).join(''),
  );
}

/** Buffers text, aligning it on flush; `flush()` ends every open column block, as Go's Flush does. */
export class TabWriter {
  private pending = '';
  private done = '';
  private readonly remembered: number[] | undefined;

  constructor(private readonly opts: TabWriterOptions) {
    this.remembered = opts.rememberWidths ? [] : undefined;
  }

  write(text: string): void {
    this.pending += text;
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    const complete = text.endsWith('\n');
    const rows = text.split('\n');
    if (complete) rows.pop();
    this.done +=
      layoutCells(
        rows.map((r) => r.split('\t')),
        this.opts,
        this.remembered,
      ).join('\n') + (complete ? '\n' : '');
  }

  /** Flushes and hands over what was written since the last take (for streaming output). */
  take(): string {
    this.flush();
    const out = this.done;
    this.done = '';
    return out;
  }

  /** Flushes and returns everything written so far. */
  toString(): string {
    this.flush();
    return this.done;
  }
}
