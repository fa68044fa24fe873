/**
 * Field paths written as k8s.io/apimachinery's field.Path prints them:
 * `spec.versions[0].schema.openAPIV3Schema.properties[spec].type`.
 */

/** `.name` (or `name` at the root). */
export function child(path: string, ...names: string[]): string {
  return names.reduce((p, n) => (p ? `${p}.${n}` : n), path);
}

/** `[key]`: a map key, printed unquoted as field.Path.Key does. */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** `[i]`: a list index. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}
