/**
 * metav1.LabelSelector as kubectl prints it (LabelSelectorAsSelector(...)
 * .String()): requirements sorted by key, set values sorted, `in`/`notin`
 * sets in parentheses. Empty for a nil or empty selector.
 */
import { formatSelector, fromLabelSelector } from '../api/labels.js';
import type { LabelSelector } from '../api/meta/v1/label-selector.js';

export function labelSelectorText(sel: LabelSelector | null | undefined): string {
  const reqs = fromLabelSelector(sel)
    .map((r) => ({ ...r, values: [...r.values].sort() }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return formatSelector(reqs);
}
