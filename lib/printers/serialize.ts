/**
 * `-o json` and `-o yaml` as kubectl prints objects: keys sorted (kubectl
 * prints unstructured maps), JSON indented by four spaces with Go's HTML-safe
 * escapes, YAML with YAML 1.1 quoting ("y", "on", timestamps) and sequences
 * not indented under their key, as sigs.k8s.io/yaml writes them.
 */
import { stringify } from 'yaml';
import { isPlainObject } from '../util/json.js';

/** A deep copy with every object's keys in sorted order. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

/** Go's encoding/json escapes these inside strings; they only occur inside strings in JSON text. */
function goEscape(json: string): string {
  return json
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function toJson(value: unknown): string {
  return `${goEscape(JSON.stringify(sortKeys(value), null, 4))}\n`;
}

/** Indented JSON keeping the value's own key order (kubeconfig views print Go struct order). */
export function toJsonInOrder(value: unknown): string {
  return `${goEscape(JSON.stringify(value, null, 4))}\n`;
}

/** Compact JSON byte-for-byte as Go's json.Marshal writes a decoded object (sorted keys, HTML-safe escapes). */
export function goJson(value: unknown): string {
  return goEscape(JSON.stringify(sortKeys(value)));
}

export function toYaml(value: unknown): string {
  return stringify(sortKeys(value), { version: '1.1', indentSeq: false, lineWidth: 80, minContentWidth: 20 });
}
