/**
 * The `default/kubernetes` Service's fixed parts, which the API server
 * (that keeps it), the node proxy and the agent (that serve and announce it)
 * and `kumo up`'s certificate share.
 */
export const KUBERNETES_SERVICE_NAMESPACE = 'default';
export const KUBERNETES_SERVICE_NAME = 'kubernetes';
/** The Service's port: kube serves `https` on 443 whatever the API server's own port. */
export const KUBERNETES_SERVICE_PORT = 443;

/** The names kube's serving certificate carries for the Service (and so pods may dial). */
export function kubernetesServiceNames(clusterDomain = 'cluster.local'): string[] {
  const base = `${KUBERNETES_SERVICE_NAME}.${KUBERNETES_SERVICE_NAMESPACE}`;
  return [KUBERNETES_SERVICE_NAME, base, `${base}.svc`, `${base}.svc.${clusterDomain}`];
}
