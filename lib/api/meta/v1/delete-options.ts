/** How a delete treats the object's dependents (metav1.DeletionPropagation). */
export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

/** The options of a delete (metav1.DeleteOptions, as far as kumo honours them). */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: PropagationPolicy;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

/** The finalizers a delete with propagationPolicy Orphan or Foreground puts on the object (metav1.FinalizerOrphanDependents, FinalizerDeleteDependents): the garbage collector removes them. */
export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';
