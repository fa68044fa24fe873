/**
 * The zod schemas and the Go-type table are generated together from
 * k8s.io/api (scripts/gen-k8s-types.mjs): every struct of the table has a
 * schema with exactly its JSON fields and their JSON types, and every kind
 * kumo serves is checked with its generated schema. Regenerating one output
 * without the other fails here.
 */
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as admissionv1 from '#lib/api/admission/v1/shapes.generated';
import * as admissionregistrationv1 from '#lib/api/admissionregistration/v1/shapes.generated';
import * as authenticationv1 from '#lib/api/authentication/v1/shapes.generated';
import * as authorizationv1 from '#lib/api/authorization/v1/shapes.generated';
import * as networkingv1 from '#lib/api/networking/v1/shapes.generated';
import * as rbacv1 from '#lib/api/rbac/v1/shapes.generated';
import * as storagev1 from '#lib/api/storage/v1/shapes.generated';
import * as appsv1 from '#lib/api/apps/v1/shapes.generated';
import * as autoscalingv1 from '#lib/api/autoscaling/v1/shapes.generated';
import * as autoscalingv2 from '#lib/api/autoscaling/v2/shapes.generated';
import * as batchv1 from '#lib/api/batch/v1/shapes.generated';
import * as coordinationv1 from '#lib/api/coordination/v1/shapes.generated';
import * as corev1 from '#lib/api/core/v1/shapes.generated';
import * as discoveryv1 from '#lib/api/discovery/v1/shapes.generated';
import * as metav1 from '#lib/api/meta/v1/shapes.generated';
import * as policyv1 from '#lib/api/policy/v1/shapes.generated';
import * as schedulingv1 from '#lib/api/scheduling/v1/shapes.generated';
import { apiVersionOf } from '#lib/api/registry';
import { resourceTypes } from '#lib/kinds/resources';
import { K8S_TYPES } from '#lib/apiserver/schema/k8s-types.generated';
import { jsonFields, parseType, structForKind, type TypeRef } from '#lib/apiserver/schema/types';

const PACKAGES: Record<string, Record<string, unknown>> = {
  'admission/v1': admissionv1,
  'admissionregistration/v1': admissionregistrationv1,
  'authentication/v1': authenticationv1,
  'authorization/v1': authorizationv1,
  'networking/v1': networkingv1,
  'rbac/v1': rbacv1,
  'storage/v1': storagev1,
  'apps/v1': appsv1,
  'autoscaling/v1': autoscalingv1,
  'autoscaling/v2': autoscalingv2,
  'batch/v1': batchv1,
  'coordination/v1': coordinationv1,
  'core/v1': corev1,
  'discovery/v1': discoveryv1,
  'meta/v1': metav1,
  'policy/v1': policyv1,
  'scheduling/v1': schedulingv1,
};

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional/nullable. */
function core(s: z.ZodType): z.ZodType {
  const d = defOf(s);
  return d.type === 'optional' || d.type === 'nullable' ? core(d.innerType!) : s;
}

function schemaOf(struct: string): z.ZodType | undefined {
  const dot = struct.lastIndexOf('.');
  return PACKAGES[struct.slice(0, dot)]?.[`${struct.slice(dot + 1)}Schema`] as z.ZodType | undefined;
}

/** Whether a zod schema takes the JSON a Go type takes (structs by identity: the schema of that very struct). */
function agrees(ref: TypeRef, schema: z.ZodType): boolean {
  const d = defOf(core(schema));
  switch (ref.kind) {
    case 'struct': {
      const own = schemaOf(ref.name);
      if (core(schema) === own) return true;
      // A kind used as a field (scripts/k8s-zod.mjs): its own schema but for apiVersion and kind, which may be left out.
      const used = d.shape;
      const declared = own && defOf(own).shape;
      if (!used || !declared || Object.keys(used).length !== Object.keys(declared).length) return false;
      return Object.entries(declared).every(([k, v]) => (k === 'apiVersion' || k === 'kind' ? defOf(used[k]!).type === 'optional' : used[k] === v));
    }
    case 'list':
      return d.type === 'array' && agrees(ref.elem, d.element!);
    case 'map':
      return d.type === 'record' && agrees(ref.elem, d.valueType!);
    case 'scalar':
      return { string: 'string', bytes: 'string', bool: 'boolean', int32: 'number', int64: 'number', double: 'number' }[ref.scalar] === d.type;
    case 'special':
      return (
        {
          Quantity: 'union',
          IntOrString: 'union',
          Time: 'string',
          MicroTime: 'string',
          Duration: 'string',
          FieldsV1: 'record',
          RawExtension: 'unknown',
        }[ref.special] === d.type
      );
  }
}

describe('the generated schemas', () => {
  it('have one schema per Go struct, with exactly its JSON fields and their types', () => {
    for (const struct of Object.keys(K8S_TYPES)) {
      const schema = schemaOf(struct);
      expect(schema, struct).toBeDefined();
      const shape = defOf(schema!).shape!;
      const fields = jsonFields(struct);
      const envelope = Object.keys(shape).filter((k) => !fields.has(k));
      expect(
        envelope.filter((k) => k !== 'apiVersion' && k !== 'kind'),
        struct,
      ).toEqual([]);
      for (const [name, field] of fields) {
        expect(shape[name], `${struct}.${name}`).toBeDefined();
        expect(agrees(parseType(field.type), shape[name]!), `${struct}.${name}: ${field.type}`).toBe(true);
      }
    }
  });

  it('are the schemas the API server checks every kind with', () => {
    // The one exception, named: CustomResourceDefinition's shape is lib/apiextensions/types.ts (k8s.io/apiextensions-apiserver's
    // types, which the generator does not read; docs/crds.md). Any other kind without Go types fails here.
    const withoutGoTypes = resourceTypes.filter((rt) => !structForKind(apiVersionOf(rt), rt.kind)).map((rt) => rt.kind);
    expect(withoutGoTypes).toEqual(['CustomResourceDefinition']);
    for (const rt of resourceTypes) {
      const struct = structForKind(apiVersionOf(rt), rt.kind);
      if (struct) expect(rt.schema, rt.kind).toBe(schemaOf(struct));
    }
  });

  it("require only what kumo's code relies on: a container needs a name, a pod spec nothing", () => {
    expect(corev1.ContainerSchema.safeParse({}).success).toBe(false);
    expect(corev1.ContainerSchema.safeParse({ name: 'c' }).success).toBe(true);
    expect(corev1.PodSpecSchema.safeParse({ containers: null, nodeName: null }).success).toBe(true);
    expect(metav1.ObjectMetaSchema.safeParse({ name: null }).success).toBe(false);
  });
});
