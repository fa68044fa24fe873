/** The table printer of a kind: its own, or NAME and AGE where it says 'default'. */
import { defaultPrinter, type Printer } from '../printers/columns.js';
import type { Kind } from './kind.js';

export function printerOf(kind: Kind): Printer {
  return kind.printer === 'default' ? defaultPrinter : kind.printer;
}
