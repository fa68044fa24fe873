/**
 * Label selectors: the string syntax of `?labelSelector=` (k8s.io/apimachinery
 * pkg/labels) and the structured metav1.LabelSelector, both reduced to one
 * list of requirements that all must hold.
 */
import type { LabelSelector } from './meta/v1/label-selector.js';

export type Operator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!';

export interface Requirement {
  key: string;
  op: Operator;
  values: string[];
}

export type Selector = Requirement[];

export class SelectorParseError extends Error {
  override name = 'SelectorParseError';
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 317) throw new SelectorParseError(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63) throw new SelectorParseError(`invalid label value: "${value}"`);
  return value;
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. An empty string selects everything. */
export function parseLabelSelector(input: string): Selector {
  const reqs: Requirement[] = [];
  for (const term of splitTerms(input)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      reqs.push({ key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values });
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: checkKey(m[1]!), op: m[2] === '!=' ? '!=' : '=', values: [checkValue(m[3]!)] });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!), op: '!', values: [] });
    } else if ((m = term.match(/^(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!), op: 'exists', values: [] });
    } else {
      throw new SelectorParseError(`unable to parse requirement: "${term}"`);
    }
  }
  return reqs;
}

/**
 * metav1.LabelSelector → requirements. An empty (non-null) selector selects
 * everything, as in Kubernetes; callers that need "nothing" for a missing
 * selector check for undefined first.
 */
export function fromLabelSelector(sel: LabelSelector | null | undefined): Selector {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key, op: '=', values: [value] });
  for (const expr of sel?.matchExpressions ?? []) {
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
        reqs.push({ key: expr.key, op: 'in', values });
        break;
      case 'NotIn':
        reqs.push({ key: expr.key, op: 'notin', values });
        break;
      case 'Exists':
        reqs.push({ key: expr.key, op: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        reqs.push({ key: expr.key, op: '!', values: [] });
        break;
      default:
        throw new SelectorParseError(`"${expr.operator}" is not a valid label selector operator`);
    }
  }
  return reqs;
}

export function matches(selector: Selector, labels: Record<string, string> | null | undefined): boolean {
  const l = labels ?? {};
  for (const r of selector) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        if (!has || v !== r.values[0]) return false;
        break;
      case '!=':
        if (has && v === r.values[0]) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v!)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v!)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case '!':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The string form, as `kubectl` prints a selector (and as Scale's status.selector carries it). */
export function formatSelector(selector: Selector): string {
  return selector
    .map((r) => {
      switch (r.op) {
        case '=':
        case '!=':
          return `${r.key}${r.op}${r.values[0]}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.op} (${r.values.join(',')})`;
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
      }
    })
    .join(',');
}
