import { createHash } from 'node:crypto';
import { stableJson } from '../util/json.js';

/** The consonants and digits kube-apiserver's SimpleNameGenerator draws from, so that no generated suffix spells a word. */
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A 32-bit hash of a value (stable JSON, plus a collision count when non-zero)
 * spelled in NAME_CHARS as kube's rand.SafeEncodeString spells the decimal
 * digits of its fnv32a: the pod-template-hash label, a ControllerRevision's
 * name suffix. Only stability matters (the same value names the same hash in
 * every process), not equality with kube's bytes.
 */
export function valueHash(value: unknown, collisionCount = 0): string {
  const h = createHash('sha256').update(stableJson(value ?? {}));
  if (collisionCount > 0) h.update(String(collisionCount));
  const n = h.digest().readUInt32BE(0);
  return [...String(n)].map((c) => NAME_CHARS[c.charCodeAt(0) % NAME_CHARS.length]).join('');
}

/** A random suffix for generateName (and for the pods a controller names itself). */
export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}
