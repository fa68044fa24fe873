/**
 * The label by which a Deployment tells its ReplicaSets' templates apart
 * (apps/v1 DefaultDeploymentUniqueLabelKey), and template equality that
 * ignores it (EqualIgnoreHash in Kubernetes' deployment util): the
 * controller, `rollout undo` and `describe deployment` must all pick the
 * same ReplicaSet as the Deployment's current one, so they share this.
 */
import { clone, deepEqual } from '../../../util/json.js';
import type { PodTemplateSpec } from '../../core/v1/pod.js';

export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** A copy of the template without the hash label; a label map left empty is dropped, as an absent one compares equal to it. */
function withoutHash(t: PodTemplateSpec | null | undefined): PodTemplateSpec {
  const copy = clone(t ?? {});
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

/** Whether two templates are equal but for the pod-template-hash label. */
export function equalIgnoreHash(a: PodTemplateSpec | null | undefined, b: PodTemplateSpec | null | undefined): boolean {
  return deepEqual(withoutHash(a), withoutHash(b));
}
