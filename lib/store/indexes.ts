/**
 * Secondary index values the backends maintain beside each object. Only pods
 * are indexed, by `spec.nodeName`: agents list and watch the pods bound to
 * their node, and that must not read every pod in the cluster.
 */
import type { KObject } from '../api/object.js';

/** `resource` is a store key: `pods` is the core group's (a custom `pods` is stored as `<group>/pods` and never indexed). */
export function nodeIndexValue(resource: string, obj: KObject): string | undefined {
  if (resource !== 'pods') return undefined;
  const spec = obj.spec as { nodeName?: unknown } | undefined;
  return typeof spec?.nodeName === 'string' && spec.nodeName !== '' ? spec.nodeName : undefined;
}

/**
 * Continue tokens name the last key returned; pages resume strictly after it.
 * A page of a list at a revision also names that revision, so the next pages
 * are read at it too (as Kubernetes' tokens carry theirs).
 */
export interface ContinueToken {
  namespace: string;
  name: string;
  revision?: number;
}

export function encodeContinue(token: ContinueToken): string {
  const parts = token.revision !== undefined ? [token.namespace, token.name, token.revision] : [token.namespace, token.name];
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeContinue(raw: string): ContinueToken | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
    if (parsed.length === 2) return { namespace: parsed[0], name: parsed[1] };
    const revision: unknown = parsed[2];
    if (parsed.length === 3 && typeof revision === 'number' && Number.isSafeInteger(revision) && revision >= 0) {
      return { namespace: parsed[0], name: parsed[1], revision };
    }
  } catch {
    // fall through: not a token of ours
  }
  return undefined;
}

export function withResourceVersion(obj: KObject, revision: number): KObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(revision) } };
}
