/**
 * The object fields a downward-API fieldRef reads from metadata, as
 * Kubernetes' ExtractFieldPathAsString (pkg/fieldpath, and kubectl's copy in
 * k8s.io/kubectl/pkg/util/fieldpath): name, namespace, uid, one label or
 * annotation by `['key']` subscript, or the whole map, one `key="value"` a
 * line in key order. The kubelet answers the spec and status paths
 * (spec.nodeName, status.podIP, ...) itself before it falls back to this;
 * `kubectl describe` does not, so it shows those values empty.
 */
/** The metadata fields a fieldRef may read (any object's metadata has them). */
interface FieldRefMeta {
  name?: string | null;
  namespace?: string | null;
  uid?: string | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
}

/** FormatMap: `key="value"` lines, keys sorted, values quoted (JSON's quoting stands in for Go's %q). */
export function formatMap(m: Record<string, string> | null | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** SplitMaybeSubscriptedPath: `metadata.labels['app']` is `['metadata.labels', 'app']`; a path without a subscript is undefined. */
function splitSubscript(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const s = fieldPath.slice(0, -2);
  const at = s.indexOf("['");
  if (at <= 0) return undefined;
  return [s.slice(0, at), s.slice(at + 2)];
}

/** The value of a metadata field path, or undefined for a path this does not support (Kubernetes' "unsupported fieldPath" error). */
export function metadataFieldValue(meta: FieldRefMeta, fieldPath: string): string | undefined {
  const subscripted = splitSubscript(fieldPath);
  if (subscripted) {
    const [path, key] = subscripted;
    if (path === 'metadata.labels') return meta.labels?.[key] ?? '';
    if (path === 'metadata.annotations') return meta.annotations?.[key] ?? '';
    return undefined;
  }
  switch (fieldPath) {
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    default:
      return undefined;
  }
}
