/**
 * MutatingWebhookConfiguration and ValidatingWebhookConfiguration
 * (admissionregistration.k8s.io/v1): cluster-scoped lists of admission
 * webhooks, after kube's pkg/registry/admissionregistration (v1 defaults,
 * validation with its messages, kubectl's NAME WEBHOOKS AGE). The API server
 * calls them (lib/apiserver/admission, docs/webhooks.md).
 */
import type { MutatingWebhook } from '../api/admissionregistration/v1/webhookconfiguration.js';
import { MutatingWebhookConfigurationSchema, ValidatingWebhookConfigurationSchema } from '../api/admissionregistration/v1/webhookconfiguration.js';
import { checkAdmissionExpression } from '../apiextensions/cel-admission.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { defaultWebhook, duplicateWebhookNames, REINVOCATION_POLICIES, validateWebhook, type WebhookFields } from './validation/admissionregistration.js';

type Configuration = KObject & { webhooks?: WebhookFields[] | null };

const checkCondition = (expr: string) => checkAdmissionExpression(expr, 'bool');

function webhookStrategy(mutating: boolean): Strategy {
  const validate = (obj: KObject): FieldError[] => {
    const hooks = (obj as Configuration).webhooks ?? [];
    const errs: FieldError[] = [];
    hooks.forEach((h, i) => {
      errs.push(...validateWebhook(`webhooks[${i}]`, h, checkCondition));
      const policy = (h as MutatingWebhook).reinvocationPolicy;
      if (mutating && policy !== undefined && policy !== null && !(REINVOCATION_POLICIES as readonly string[]).includes(policy)) {
        errs.push(fieldErrors.notSupported(`webhooks[${i}].reinvocationPolicy`, policy, REINVOCATION_POLICIES));
      }
    });
    return [...errs, ...duplicateWebhookNames(hooks)];
  };
  return {
    defaults(obj) {
      for (const h of (obj as Configuration).webhooks ?? []) {
        defaultWebhook(h);
        if (mutating) (h as MutatingWebhook).reinvocationPolicy ??= 'Never';
      }
    },
    validate,
  };
}

/** kubectl get (printMutatingWebhook / printValidatingWebhook): NAME WEBHOOKS AGE. */
const webhookPrinter: Printer = {
  columns: [NAME, col('Webhooks', 'integer'), AGE],
  row(obj, now) {
    return [obj.metadata.name ?? '', ((obj as Configuration).webhooks ?? []).length, age(obj.metadata.creationTimestamp, now)];
  },
};

/** What the admissionregistration.k8s.io/v1 kinds share: cluster-scoped, no kubectl describer of their own, nothing for nodes. */
export const ADMISSION_REGISTRATION = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  namespaced: false,
  shortNames: [],
  categories: ['api-extensions'],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'none' },
  describer: 'generic',
} as const;

const common = { ...ADMISSION_REGISTRATION, subresources: [], printer: webhookPrinter } as const;

export const mutatingWebhookConfigurationKind = defineKind({
  ...common,
  kind: 'MutatingWebhookConfiguration',
  resource: 'mutatingwebhookconfigurations',
  schema: MutatingWebhookConfigurationSchema,
  strategy: webhookStrategy(true),
});

export const validatingWebhookConfigurationKind = defineKind({
  ...common,
  kind: 'ValidatingWebhookConfiguration',
  resource: 'validatingwebhookconfigurations',
  schema: ValidatingWebhookConfigurationSchema,
  strategy: webhookStrategy(false),
});
