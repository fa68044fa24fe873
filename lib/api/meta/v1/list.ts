import type { KObject } from '../../object.js';

/** A list as the API answers it (metav1.List's shape: the kind is `<Kind>List`). */
export interface KList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: KObject[];
}
