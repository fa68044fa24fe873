/**
 * kubectl describe's PrefixWriter over a tabwriter (minWidth 0, padding 2):
 * each level indents by two spaces, tabs separate the aligned columns, and
 * `flush()` ends the current column blocks (DescribeEvents flushes before its
 * table, so the events align on their own).
 */
import { DESCRIBE_TABWRITER, TabWriter } from '../tabwriter.js';

export const LEVEL_0 = 0;
export const LEVEL_1 = 1;
export const LEVEL_2 = 2;
export const LEVEL_3 = 3;

export class PrefixWriter {
  constructor(private readonly tw: TabWriter) {}

  /** Writes `text` indented by `level` two-space steps (text carries its own newline). */
  write(level: number, text: string): void {
    this.tw.write('  '.repeat(level) + text);
  }

  /** Go's WriteLine: the text and a newline, no indentation. */
  line(text: string): void {
    this.tw.write(`${text}\n`);
  }

  flush(): void {
    this.tw.flush();
  }
}

/** Runs a describer against a fresh tabwriter and returns the aligned text. */
export function tabbed(fn: (w: PrefixWriter) => void): string {
  const tw = new TabWriter(DESCRIBE_TABWRITER);
  fn(new PrefixWriter(tw));
  return tw.toString();
}
