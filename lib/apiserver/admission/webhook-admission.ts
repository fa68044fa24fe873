/**
 * Dynamic admission as RestStorage runs it: the webhook configurations,
 * policies and bindings read through a cache, the mutating webhooks after
 * the built-in mutating admission, the policies (policies.ts) and
 * validating webhooks after validation
 * (docs/webhooks.md). A request about an admissionregistration.k8s.io object
 * is never sent to them, and a write with no configuration stored costs no
 * store read beyond the cache's refresh.
 */
import type { MutatingWebhookConfiguration, ValidatingWebhookConfiguration } from '../../api/admissionregistration/v1/webhookconfiguration.js';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { storeResource } from '../../api/store-key.js';
import { NAMESPACES } from '../../kinds/resources.js';
import type { Store } from '../../store/types.js';
import type { Clock } from '../../util/clock.js';
import type { AdmissionAttributes } from './attributes.js';
import { ConfigurationCache } from './configuration-cache.js';
import { ADMISSION_CONFIGURATION_GROUP, isExempt } from './matching.js';
import { endpointResolver } from './service-resolver.js';
import type { ServiceResolver } from './webhook-client.js';
import { dispatchMutating, dispatchValidating, type DispatchContext, type Hook } from './webhooks.js';
import { dispatchPolicies, type PolicyContext } from './policies.js';
import type { ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding } from '../../api/admissionregistration/v1/validatingadmissionpolicy.js';
import type { KindRegistry } from '../../kinds/index.js';
import { fromLabelSelector, matches } from '../../api/labels.js';

const MUTATING = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'mutatingwebhookconfigurations' });
const VALIDATING = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'validatingwebhookconfigurations' });
const POLICIES = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'validatingadmissionpolicies' });
const BINDINGS = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'validatingadmissionpolicybindings' });

/** How long a server trusts what it last read of the configurations. @default 1 s */
export const DEFAULT_ADMISSION_CONFIG_TTL_MS = 1000;

export interface WebhookAdmissionOptions {
  /** See DEFAULT_ADMISSION_CONFIG_TTL_MS. */
  configTtlMs?: number;
  /** Where a `service` webhook is dialed. @default its endpoints (service-resolver.ts) */
  resolve?: ServiceResolver;
}

function hooksOf(configs: readonly KObject[]): Hook[] {
  return configs.flatMap((c) =>
    ((c as MutatingWebhookConfiguration | ValidatingWebhookConfiguration).webhooks ?? []).map((webhook) => ({ configuration: c.metadata.name ?? '', webhook })),
  );
}

export class WebhookAdmission {
  private readonly cache: ConfigurationCache;
  private readonly resolve: ServiceResolver;

  constructor(
    private readonly store: Store,
    private readonly kinds: KindRegistry,
    clock: Clock,
    opts: WebhookAdmissionOptions = {},
  ) {
    this.cache = new ConfigurationCache(async (resource) => (await store.list(resource)).items, clock, opts.configTtlMs ?? DEFAULT_ADMISSION_CONFIG_TTL_MS);
    this.resolve = opts.resolve ?? endpointResolver(store);
  }

  private context(warnings: string[]): DispatchContext {
    return {
      warnings,
      resolve: this.resolve,
      namespaceLabels: async (name) => (await this.namespace(name))?.metadata.labels ?? undefined,
    };
  }

  private namespace(name: string): Promise<KObject | undefined> {
    return this.store.get({ resource: storeResource(NAMESPACES), namespace: '', name });
  }

  private policyContext(warnings: string[]): PolicyContext {
    return {
      warnings,
      namespace: (name) => this.namespace(name),
      // Params are read from the store on each request a bound policy matches (kube reads an informer's cache).
      params: async ({ apiVersion, kind }, ref, namespace) => {
        const rt = this.kinds.lookupKind(apiVersion, kind);
        if (!rt) throw new Error(`failed to find resource referenced by paramKind: '${apiVersion}, Kind=${kind}'`);
        const ns = rt.namespaced ? ref?.namespace || namespace : '';
        if (rt.namespaced && !ns) throw new Error('cannot use namespaced paramRef in policy binding that matches cluster-scoped resources');
        if (ref?.name) {
          const obj = await this.store.get({ resource: storeResource(rt), namespace: ns, name: ref.name });
          return obj ? [obj] : [];
        }
        const selector = fromLabelSelector(ref?.selector);
        const { items } = await this.store.list(storeResource(rt), rt.namespaced ? { namespace: ns } : {});
        return items.filter((o) => matches(selector, o.metadata.labels));
      },
    };
  }

  /** Mutating admission: the object the webhooks leave (the request's own when none matched). */
  async mutate(attrs: AdmissionAttributes, warnings: string[]): Promise<KObject | undefined> {
    if (isExempt(attrs)) return attrs.object;
    const hooks = hooksOf(await this.cache.get(MUTATING));
    if (hooks.length === 0) return attrs.object;
    return dispatchMutating(hooks, attrs, this.context(warnings));
  }

  /** Validating admission, policies then webhooks (kube's plugin order): throws the Status that refuses the request. */
  async validate(attrs: AdmissionAttributes, warnings: string[]): Promise<void> {
    if (isExempt(attrs)) return;
    const bindings = (await this.cache.get(BINDINGS)) as readonly ValidatingAdmissionPolicyBinding[];
    if (bindings.length > 0) {
      const policies = (await this.cache.get(POLICIES)) as readonly ValidatingAdmissionPolicy[];
      await dispatchPolicies(policies, bindings, attrs, this.policyContext(warnings));
    }
    const hooks = hooksOf(await this.cache.get(VALIDATING));
    if (hooks.length > 0) await dispatchValidating(hooks, attrs, this.context(warnings));
  }

  /** After this server wrote an object of `rt`: a configuration it changed is read again on the next request. */
  written(rt: ResourceType): void {
    if (rt.group === ADMISSION_CONFIGURATION_GROUP) this.cache.invalidate(storeResource(rt));
  }
}
