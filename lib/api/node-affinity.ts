/**
 * Node selectors and required node affinity (k8s.io/component-helpers
 * scheduling/corev1/nodeaffinity), shared by the scheduler and the DaemonSet
 * controller, which must agree on which nodes a pod may run on.
 */
import type { z } from 'zod';
import type { NodeSelectorTermSchema, Pod } from './core/v1/pod.js';
import type { KObject } from './object.js';

type NodeSelectorTerm = z.infer<typeof NodeSelectorTermSchema>;

function matchRequirement(req: { key: string; operator: string; values?: string[] | null }, value: string | undefined): boolean {
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** Whether a node matches one term: every label expression and every field (only `metadata.name` is a field); an empty term matches nothing. */
export function matchesTerm(term: NodeSelectorTerm, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => matchRequirement(r, labels[r.key])) &&
    fields.every((r) => matchRequirement(r, r.key === 'metadata.name' ? node.metadata.name : undefined))
  );
}

/** The pod's nodeSelector and required node affinity (any term) both match the node (kube's GetRequiredNodeAffinity().Match). */
export function matchesNodeSelector(pod: Pod, node: KObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !required.nodeSelectorTerms.some((t) => matchesTerm(t, node))) return false;
  return true;
}

/** A required NodeSelector (any term), as a PersistentVolume's `nodeAffinity.required` holds it. */
export function matchesNodeSelectorTerms(terms: readonly NodeSelectorTerm[], node: KObject): boolean {
  return terms.some((t) => matchesTerm(t, node));
}
