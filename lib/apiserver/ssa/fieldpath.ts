/**
 * Sets of field paths (structured-merge-diff's fieldpath.Set) in the form
 * managedFields stores them (`fieldsV1`): a tree whose edges are path
 * elements `f:<field>`, `k:<key fields as JSON>` (list items by key),
 * `v:<value as JSON>` (set items) and `i:<index>`, and whose nodes are
 * members of the set or only lead to members. Set operations never modify
 * their operands.
 */
import { isPlainObject } from '../../util/json.js';

export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  /** Adds `path` (and the nodes leading to it) to the set; returns the path's node. */
  insert(path: readonly string[]): FieldSet {
    const node = path.reduce<FieldSet>((n, pe) => n.child(pe), this);
    node.member = true;
    return node;
  }

  /** The node under `pe`, created if absent. */
  child(pe: string): FieldSet {
    let c = this.children.get(pe);
    if (!c) {
      c = new FieldSet();
      this.children.set(pe, c);
    }
    return c;
  }

  get(pe: string): FieldSet | undefined {
    return this.children.get(pe);
  }

  /** Whether the set has no members at all. */
  empty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.empty()) return false;
    return true;
  }

  has(path: readonly string[]): boolean {
    const node = path.reduce<FieldSet | undefined>((n, pe) => n?.children.get(pe), this);
    return node?.member ?? false;
  }

  clone(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [pe, c] of this.children) out.children.set(pe, c.clone());
    return out;
  }

  union(other: FieldSet): FieldSet {
    const out = this.clone();
    out.member ||= other.member;
    for (const [pe, c] of other.children) {
      const mine = out.children.get(pe);
      out.children.set(pe, mine ? mine.union(c) : c.clone());
    }
    return out;
  }

  /** Members of this set that are not members of `other` (children of other's members are kept, as in SMD). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && !other.member;
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      const d = o ? c.difference(o) : c.clone();
      if (!d.empty()) out.children.set(pe, d);
    }
    return out;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member && other.member;
    for (const [pe, c] of this.children) {
      const o = other.children.get(pe);
      if (!o) continue;
      const i = c.intersection(o);
      if (!i.empty()) out.children.set(pe, i);
    }
    return out;
  }

  /** Every member path, depth first in element order. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = [];
    if (this.member && prefix.length > 0) out.push(prefix);
    for (const pe of sortedElements(this.children.keys())) out.push(...this.children.get(pe)!.paths([...prefix, pe]));
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.member !== other.member) return false;
    const mine = [...this.children].filter(([, c]) => !c.empty());
    const theirs = [...other.children].filter(([, c]) => !c.empty());
    if (mine.length !== theirs.length) return false;
    return mine.every(([pe, c]) => {
      const o = other.children.get(pe);
      return o !== undefined && c.equals(o);
    });
  }

  /** The fieldsV1 JSON form: a member with children carries a `.` entry. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const pe of sortedElements(this.children.keys())) {
      const c = this.children.get(pe)!;
      if (c.empty()) continue;
      const inner = c.toFieldsV1();
      out[pe] = c.member && Object.keys(inner).length > 0 ? { '.': {}, ...inner } : inner;
    }
    return out;
  }

  static fromFieldsV1(value: unknown): FieldSet {
    const out = new FieldSet();
    fill(out, value);
    return out;
  }
}

function fill(node: FieldSet, value: unknown): void {
  if (!isPlainObject(value)) return;
  for (const [pe, v] of Object.entries(value)) {
    if (pe === '.') {
      node.member = true;
      continue;
    }
    const c = node.child(pe);
    // A leaf ({}) is a member; an inner node is one only with a `.` entry.
    if (!isPlainObject(v) || Object.keys(v).length === 0) c.member = true;
    else fill(c, v);
  }
}

const ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

/** SMD's element order: field names, then keys, values, indexes; each sorted. */
function sortedElements(pes: Iterable<string>): string[] {
  return [...pes].sort((a, b) => {
    const d = (ORDER[a[0]!] ?? 4) - (ORDER[b[0]!] ?? 4);
    if (d !== 0) return d;
    if (a[0] === 'i' && b[0] === 'i') return Number(a.slice(2)) - Number(b.slice(2));
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export function fieldElement(name: string): string {
  return `f:${name}`;
}

/** A list item's element from its key fields (sorted by name, as SMD does). */
export function keyElement(keys: Record<string, unknown>): string {
  const sorted = Object.fromEntries(
    Object.keys(keys)
      .sort()
      .map((k) => [k, keys[k]]),
  );
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(v: unknown): string {
  return `v:${JSON.stringify(v)}`;
}

/** The path as Kubernetes prints it in conflicts: `.spec.containers[name="web"].image`. */
export function pathString(path: readonly string[]): string {
  let out = '';
  for (const pe of path) {
    const body = pe.slice(2);
    switch (pe[0]) {
      case 'f':
        out += `.${body}`;
        break;
      case 'k': {
        const keys = JSON.parse(body) as Record<string, unknown>;
        out += `[${Object.entries(keys)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
        break;
      }
      case 'v':
        out += `[=${body}]`;
        break;
      case 'i':
        out += `[${body}]`;
        break;
      default:
        out += pe;
    }
  }
  return out;
}
