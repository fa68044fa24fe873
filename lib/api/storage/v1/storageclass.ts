/** storage.k8s.io/v1 StorageClass: a class of storage claims name, generated from k8s.io/api (shapes.generated.ts, docs/schemas.md). */
import type { StorageClass } from './shapes.generated.js';

export { StorageClassSchema, type StorageClass } from './shapes.generated.js';

/** The annotation that makes a class the default (and its beta spelling, still honoured by kube). */
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

export const VOLUME_BINDING_IMMEDIATE = 'Immediate';
export const VOLUME_BINDING_WAIT = 'WaitForFirstConsumer';

/** storageutil.IsDefaultAnnotation. */
export function isDefaultClass(sc: { metadata: { annotations?: Record<string, string> | null } }): boolean {
  const ann = sc.metadata.annotations ?? {};
  return ann[ANN_DEFAULT_CLASS] === 'true' || ann[ANN_BETA_DEFAULT_CLASS] === 'true';
}

/**
 * storageutil.GetDefaultClass: of the classes marked default, the newest
 * (several may be marked while a user moves the mark from one to another);
 * equal creation times go to the first name.
 */
export function defaultClass<T extends StorageClass>(classes: readonly T[]): T | undefined {
  const created = (c: T) => Date.parse(c.metadata.creationTimestamp ?? '') || 0;
  return classes.filter(isDefaultClass).sort((a, b) => created(b) - created(a) || ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))[0];
}
