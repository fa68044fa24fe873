/**
 * Defaults of apiextensions.k8s.io/v1 CustomResourceDefinition
 * (pkg/apis/apiextensions/v1/defaults.go): singular and listKind from kind,
 * conversion strategy None, a webhook service's port 443, and the first
 * storage version recorded in status.storedVersions. Mutates `crd`.
 */
import type { CustomResourceDefinition } from './types.js';

export function defaultCustomResourceDefinition(crd: CustomResourceDefinition): void {
  const spec = crd.spec;
  const names = (spec.names ??= {});
  if (!names.singular && names.kind) names.singular = names.kind.toLowerCase();
  if (!names.listKind && names.kind) names.listKind = `${names.kind}List`;
  spec.conversion ??= { strategy: 'None' };
  const service = spec.conversion.webhook?.clientConfig?.service;
  if (service && service.port == null) service.port = 443;
  const status = (crd.status ??= {});
  if (!status.storedVersions?.length) {
    const storage = (spec.versions ?? []).find((v) => v.storage);
    if (storage?.name) status.storedVersions = [storage.name];
  }
}
