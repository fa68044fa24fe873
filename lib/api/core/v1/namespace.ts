export { NamespaceSchema, type Namespace } from './shapes.generated.js';

/** The finalizer the API server puts on every namespace and the namespace controller removes once it is empty (corev1.FinalizerKubernetes). */
export const NAMESPACE_FINALIZER = 'kubernetes';
