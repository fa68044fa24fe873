/**
 * meta.k8s.io/v1 Table responses (`Accept: application/json;as=Table;...`),
 * built with the printer of the object's kind (lib/kinds).
 */
import type { KObject } from '../api/object.js';
import type { Printer } from '../printers/columns.js';

export function wantsTable(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.includes('as=Table') && part.includes('g=meta.k8s.io'));
}

function rowObject(obj: KObject, include: string | null): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/**
 * A Table for one object or a List. `omitHeaders` leaves out the column
 * definitions (watch events after the first). Returns undefined for values
 * that are neither.
 */
export function tableFor(printer: Printer, value: KObject, include: string | null, now: number, omitHeaders = false): unknown {
  const items = Array.isArray(value.items) ? (value.items as KObject[]) : value.metadata?.name !== undefined ? [value] : undefined;
  if (!items) return undefined;
  const isList = Array.isArray(value.items);
  const meta = value.metadata as { resourceVersion?: string; continue?: string };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {
      ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      ...(isList && meta.continue ? { continue: meta.continue } : {}),
    },
    columnDefinitions: omitHeaders ? null : printer.columns,
    rows: items.map((item) => {
      const object = rowObject(item, include);
      return { cells: printer.row(item, now), ...(object !== undefined ? { object } : {}) };
    }),
  };
}
