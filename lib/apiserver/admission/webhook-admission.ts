/**
 * Dynamic admission as RestStorage runs it: the webhook configurations (and
 * policies: policies.ts) read through a cache, the mutating webhooks after
 * the built-in mutating admission, the validating ones after validation
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

const MUTATING = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'mutatingwebhookconfigurations' });
const VALIDATING = storeResource({ group: ADMISSION_CONFIGURATION_GROUP, resource: 'validatingwebhookconfigurations' });

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
      namespaceLabels: async (name) => (await this.store.get({ resource: storeResource(NAMESPACES), namespace: '', name }))?.metadata.labels ?? undefined,
    };
  }

  /** Mutating admission: the object the webhooks leave (the request's own when none matched). */
  async mutate(attrs: AdmissionAttributes, warnings: string[]): Promise<KObject | undefined> {
    if (isExempt(attrs)) return attrs.object;
    const hooks = hooksOf(await this.cache.get(MUTATING));
    if (hooks.length === 0) return attrs.object;
    return dispatchMutating(hooks, attrs, this.context(warnings));
  }

  /** Validating admission: throws the Status that refuses the request. */
  async validate(attrs: AdmissionAttributes, warnings: string[]): Promise<void> {
    if (isExempt(attrs)) return;
    const hooks = hooksOf(await this.cache.get(VALIDATING));
    if (hooks.length > 0) await dispatchValidating(hooks, attrs, this.context(warnings));
  }

  /** After this server wrote an object of `rt`: a configuration it changed is read again on the next request. */
  written(rt: ResourceType): void {
    if (rt.group === ADMISSION_CONFIGURATION_GROUP) this.cache.invalidate(storeResource(rt));
  }
}
