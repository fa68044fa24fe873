/**
 * The generic REST path every resource shares (after the Kubernetes
 * apiserver's genericregistry.Store): metadata rules, per-kind strategies,
 * validation, optimistic concurrency, graceful deletion and finalizers. The
 * HTTP-facing handler and in-process callers both go through here, so a
 * write is checked the same way whoever makes it.
 *
 * Invariant: every error is a StatusError raised before the store is written,
 * or a conflict reported by the store's compare-and-swap; a request never
 * leaves a partial write behind.
 */
import { randomUUID } from 'node:crypto';
import { compileFieldSelector, FieldSelectorError, parseFieldSelector, pinnedNodeName } from '../api/fields.js';
import { matches, parseLabelSelector, SelectorParseError } from '../api/labels.js';
import type { KObject, ObjectKey } from '../api/object.js';
import { apiVersionOf, type ResourceType } from '../api/registry.js';
import type { KindRegistry } from '../kinds/index.js';
import type { PodSecurityConfig } from './podsecurity/config.js';
import { NAMESPACES, PODS } from '../kinds/resources.js';
import { groupResourceOf, storeResource } from '../api/store-key.js';
import { dns1123Label, dns1123Subdomain, validateAnnotations, validateFinalizerName, validateFinalizers, validateLabels } from '../api/validation.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { decodeContinue, encodeContinue } from '../store/indexes.js';
import { AlreadyExistsError, CompactedError, FutureRevisionError, InvalidContinueError, StoreBusyError, TooLargeError, type Store } from '../store/types.js';
import { type Clock, rfc3339 } from '../util/clock.js';
import { clone, deepEqual } from '../util/json.js';
import { StatusError, isAlreadyExists } from '../api/errors.js';
import { expiredContinue, expiredList, listConsistency, type ListVersionParams, tooLargeResourceVersion } from './list-options.js';
import { Conversion } from './conversion.js';
import { recordWrite, tracksSubresource } from './ssa/track.js';
import { PodSecurityAdmission } from './podsecurity/admission.js';
import { QuotaAdmission } from './quota-admission.js';
import { WebhookAdmission, type WebhookAdmissionOptions } from './admission/webhook-admission.js';
import { endpointResolver } from './admission/service-resolver.js';
import type { AdmissionAttributes, Operation } from './admission/attributes.js';
import { PRIVILEGED } from './podsecurity/config.js';
import { AUDIT_VIOLATIONS_ANNOTATION } from './podsecurity/levels.js';
import type { Authorizer, UserInfo } from '../api/request.js';
import type { AdmissionConfig, AdmitContext, Strategy, StrategyContext, WriteHookContext } from '../kinds/strategy.js';
import { type DeleteOptions, FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../api/meta/v1/delete-options.js';
import type { KList } from '../api/meta/v1/list.js';
import { randomSuffix } from '../api/names.js';

export interface ListParams extends Omit<ListVersionParams, 'limit' | 'continue'> {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WriteOptions {
  dryRun?: boolean;
  /** The subresource written through, if any (`status`). */
  subresource?: string;
  /** Who writes, recorded in metadata.managedFields; unset: ownership is not recorded (server-internal writes). */
  fieldManager?: string;
  /** The object's managedFields are already computed (server-side apply): keep them as given. */
  managedFieldsSet?: boolean;
  /** Who writes: admission checks (and exempts) by user. Unset: a server-internal write. */
  user?: UserInfo;
  /** Admission's warnings for the response are appended here (a retried write may append one twice). */
  warnings?: string[];
}

/** Attempts for read-modify-write loops (patch, unconditional update) before giving up with 409. */
const MAX_RETRIES = 8;

/**
 * The resourceVersion a write's body demands, if any: unset and "0" ask for
 * an unconditional write, as the Kubernetes registry reads them
 * (Store.Update: a zero resourceVersion skips the optimistic-lock check).
 */
function requiredResourceVersion(rv: unknown): string | undefined {
  return typeof rv === 'string' && rv !== '' && rv !== '0' ? rv : undefined;
}

/** The optimistic-lock check of a write: a resourceVersion the body demands (requiredResourceVersion) must be the current one, else 409. */
export function checkResourceVersion(rt: ResourceType, name: string, demanded: unknown, current: KObject): void {
  const expected = requiredResourceVersion(demanded);
  if (expected && expected !== current.metadata.resourceVersion) throw StatusError.modified(refOf(rt), name);
}

function refOf(rt: ResourceType) {
  return { group: rt.group, resource: rt.resource };
}

/** Everything outside metadata and status: what `generation` tracks. */
function specOf(obj: KObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** The object as compared for no-op detection: resourceVersion and managedFields timestamps do not count. */
function comparable(obj: KObject): unknown {
  const { resourceVersion: _rv, managedFields, ...meta } = obj.metadata;
  return { ...obj, metadata: { ...meta, managedFields: (managedFields ?? []).map(({ time: _t, ...rest }) => rest) } };
}

export function compileSelectors(rt: ResourceType, params: Pick<ListParams, 'labelSelector' | 'fieldSelector'>) {
  try {
    const labels = parseLabelSelector(params.labelSelector ?? '');
    const fieldReqs = parseFieldSelector(params.fieldSelector ?? '');
    // Keyed by the store key, so a custom resource that shares a built-in's plural never gets its field labels or index.
    const fieldPredicate = compileFieldSelector(storeResource(rt), fieldReqs, rt.selectableFields);
    const predicate = labels.length === 0 && fieldReqs.length === 0 ? undefined : (o: KObject) => matches(labels, o.metadata.labels) && fieldPredicate(o);
    const nodeName = pinnedNodeName(storeResource(rt), fieldReqs);
    return { predicate, nodeName };
  } catch (err) {
    if (err instanceof SelectorParseError) throw StatusError.badRequest(`unable to parse requirement: ${err.message}`);
    // Field selector errors already read as Kubernetes' ("field label not supported: x", "invalid selector: ..."), unprefixed.
    if (err instanceof FieldSelectorError) throw StatusError.badRequest(err.message);
    throw err;
  }
}

/** The strategies' admission defaults, and the server's own admission plugins' configuration. */
export interface ServerAdmissionConfig extends AdmissionConfig {
  /** Pod Security Admission's defaults and exemptions. @default everything privileged, nothing exempt (upstream's default) */
  podSecurity?: PodSecurityConfig;
  /** Admission webhooks and policies: how stale their configurations may be read, where Services are dialed. */
  webhooks?: WebhookAdmissionOptions;
}

export class RestStorage {
  private readonly podSecurity: PodSecurityAdmission;
  private readonly quota: QuotaAdmission;
  private readonly dynamicAdmission: WebhookAdmission;
  /** Custom resources between their served and storage versions (conversion webhooks included). */
  readonly conversion: Conversion;

  constructor(
    readonly store: Store,
    private readonly clock: Clock,
    /** The kinds served: their strategies, and their bootstrap objects (bootstrap.ts). */
    readonly kinds: KindRegistry,
    private readonly admission: ServerAdmissionConfig = { defaultTolerationSeconds: 300 },
    /** The server's authorizer, for admission that asks it (RBAC's escalation checks). */
    private readonly authorizer?: Authorizer,
  ) {
    this.quota = new QuotaAdmission(store);
    this.podSecurity = new PodSecurityAdmission(admission.podSecurity ?? PRIVILEGED, {
      namespace: (name) => this.guard(() => store.get({ resource: storeResource(NAMESPACES), namespace: '', name })),
      pods: async (namespace) => (await this.guard(() => store.list(storeResource(PODS), { namespace }))).items,
    });
    const resolve = admission.webhooks?.resolve ?? endpointResolver(store);
    this.dynamicAdmission = new WebhookAdmission(store, kinds, clock, { ...admission.webhooks, resolve });
    this.conversion = new Conversion(resolve);
  }

  /**
   * What dynamic admission (webhooks, policies) is told of a write, or
   * undefined for a server-internal write (no user: the bootstrap objects,
   * the server's own bookkeeping), which it does not see: those run before
   * any configuration can exist, or are the server's, not a client's.
   */
  private attributes(
    rt: ResourceType,
    operation: Operation,
    obj: KObject | undefined,
    old: KObject | undefined,
    opts: WriteOptions,
  ): AdmissionAttributes | undefined {
    if (!opts.user) return undefined;
    const meta = (obj ?? old)!.metadata;
    return {
      operation,
      rt,
      subresource: opts.subresource,
      name: meta.name ?? '',
      namespace: rt.namespaced ? (meta.namespace ?? '') : '',
      object: obj,
      oldObject: old,
      user: opts.user,
      dryRun: opts.dryRun ?? false,
      ...(opts.fieldManager ? { options: { fieldManager: opts.fieldManager } } : {}),
    };
  }

  /**
   * Mutating admission webhooks, after the built-in mutating admission (the
   * strategy's admit, prepare and defaults): the object they leave, defaulted
   * again as kube decodes a patched object. The server-owned metadata set
   * before stays as it was (kube sets it after admission).
   */
  private async mutate(rt: ResourceType, obj: KObject, old: KObject | undefined, opts: WriteOptions): Promise<KObject> {
    const attrs = this.attributes(rt, old ? 'UPDATE' : 'CREATE', obj, old, opts);
    const out = attrs ? await this.dynamicAdmission.mutate(attrs, opts.warnings ?? []) : obj;
    if (!out || out === obj) return obj;
    const mutated = clone(out);
    const { uid, creationTimestamp, generation, namespace, managedFields } = obj.metadata;
    Object.assign(mutated.metadata, { uid, creationTimestamp, generation, namespace, managedFields });
    for (const k of ['uid', 'creationTimestamp', 'generation', 'namespace', 'managedFields'] as const)
      if (mutated.metadata[k] === undefined) delete mutated.metadata[k];
    this.strategyOf(rt).defaults?.(mutated);
    return mutated;
  }

  /**
   * Validating admission, after the strategy's validation and before the
   * write (as kube-apiserver orders them): Pod Security, the validating
   * webhooks and policies, then ResourceQuota (quota-admission.ts). Throws
   * to refuse; records audit violations on `obj` (mutated) and warnings in
   * `opts`; charges the namespace's quotas.
   */
  private async admit(rt: ResourceType, obj: KObject, old: KObject | undefined, opts: WriteOptions, name = obj.metadata.name ?? ''): Promise<void> {
    await this.admitPodSecurity(rt, obj, old, opts);
    const attrs = this.attributes(rt, old ? 'UPDATE' : 'CREATE', obj, old, opts);
    if (attrs) await this.dynamicAdmission.validate(attrs, opts.warnings ?? []);
    // ResourceQuota comes last, as in kube-apiserver's plugin order: it charges what every other plugin let through.
    if (rt.namespaced && !opts.subresource) {
      await this.guard(() =>
        this.quota.admit({ resource: rt, namespace: obj.metadata.namespace ?? '', name, object: obj, old, dryRun: opts.dryRun, now: this.clock.now() }),
      );
    }
  }

  private async admitPodSecurity(rt: ResourceType, obj: KObject, old: KObject | undefined, opts: WriteOptions): Promise<void> {
    if (!this.podSecurity.applies(rt)) return;
    const outcome = await this.podSecurity.admit({
      operation: old ? 'UPDATE' : 'CREATE',
      rt,
      subresource: opts.subresource,
      object: obj,
      old,
      user: opts.user,
    });
    opts.warnings?.push(...outcome.warnings);
    const meta = obj.metadata;
    // Checked: the annotation says what the audit level found. Not checked: an update keeps what admission recorded before.
    const recorded =
      outcome.auditViolations === undefined
        ? (meta.annotations?.[AUDIT_VIOLATIONS_ANNOTATION] ?? old?.metadata.annotations?.[AUDIT_VIOLATIONS_ANNOTATION])
        : outcome.auditViolations;
    if (recorded) meta.annotations = { ...meta.annotations, [AUDIT_VIOLATIONS_ANNOTATION]: recorded };
    else if (meta.annotations && AUDIT_VIOLATIONS_ANNOTATION in meta.annotations) {
      const { [AUDIT_VIOLATIONS_ANNOTATION]: _gone, ...rest } = meta.annotations;
      if (Object.keys(rest).length > 0) meta.annotations = rest;
      else delete meta.annotations;
    }
  }

  private strategyOf(rt: ResourceType): Strategy {
    const kind = this.kinds.kindOf(rt);
    if (!kind) throw StatusError.internal(`resource ${rt.resource} is not registered`);
    return kind.strategy;
  }

  private ctx(): StrategyContext {
    return { now: this.clock.now(), admission: this.admission };
  }

  /** What admission hooks read: any kind's objects, from the store; who writes; the authorizer. */
  private admitCtx(opts: WriteOptions): AdmitContext {
    return {
      list: async (resource, namespace) =>
        (await this.guard(() => this.store.list(storeResource(resource), namespace === undefined ? {} : { namespace }))).items,
      get: async (resource, namespace, name) =>
        (await this.guard(() => this.store.get({ resource: storeResource(resource), namespace: namespace ?? '', name }))) ?? undefined,
      admission: this.admission,
      ...(opts.user ? { user: opts.user } : {}),
      ...(this.authorizer ? { authorizer: this.authorizer } : {}),
    };
  }

  /** What allocate/afterWrite hooks see: the store (allocation records) and the objects of the kind. */
  private allocationCtx(rt: ResourceType): WriteHookContext {
    return { store: this.store, existing: async () => (await this.guard(() => this.store.list(storeResource(rt)))).items, admission: this.admission };
  }

  /** Runs a strategy's afterWrite hook; a failure there leaves stale records that allocation reclaims later. */
  private async afterWrite(rt: ResourceType, stored: KObject | undefined, prev: KObject | undefined): Promise<void> {
    const strategy = this.strategyOf(rt);
    if (!strategy.afterWrite) return;
    try {
      await strategy.afterWrite(stored, prev, this.allocationCtx(rt));
    } catch {
      // best effort: see above
    }
  }

  key(rt: ResourceType, namespace: string | undefined, name: string): ObjectKey {
    return { resource: storeResource(rt), namespace: rt.namespaced ? (namespace ?? '') : '', name };
  }

  async get(rt: ResourceType, namespace: string | undefined, name: string): Promise<KObject> {
    const obj = await this.guard(() => this.store.get(this.key(rt, namespace, name)));
    if (!obj) throw StatusError.notFound(refOf(rt), name);
    return this.conversion.fromStorage(rt, obj);
  }

  /** LIST, with Kubernetes' resourceVersion semantics (list-options.ts). */
  async list(rt: ResourceType, namespace: string | undefined, params: ListParams = {}): Promise<KList> {
    const consistency = listConsistency(params);
    const { predicate, nodeName } = compileSelectors(rt, params);
    const exact = consistency.kind === 'exact';
    const result = await this.guard(() =>
      this.store
        .list(storeResource(rt), {
          ...(rt.namespaced && namespace !== undefined ? { namespace } : {}),
          // A list at a revision filters the objects as they were: the node index holds them as they are.
          ...(nodeName && !exact ? { index: { nodeName } } : {}),
          ...(predicate ? { predicate } : {}),
          ...(params.limit ? { limit: params.limit } : {}),
          ...(params.continue ? { continue: params.continue } : {}),
          ...(exact ? { revision: consistency.revision } : {}),
        })
        .catch((err: unknown) => {
          if (err instanceof FutureRevisionError) throw tooLargeResourceVersion(String(err.requested), err.current);
          if (err instanceof CompactedError) {
            const token = params.continue ? decodeContinue(params.continue) : undefined;
            throw token ? expiredContinue(encodeContinue({ namespace: token.namespace, name: token.name })) : expiredList();
          }
          throw err;
        }),
    );
    if (consistency.kind === 'notOlderThan' && Number(result.resourceVersion) < consistency.revision) {
      throw tooLargeResourceVersion(consistency.resourceVersion, Number(result.resourceVersion));
    }
    return {
      apiVersion: apiVersionOf(rt),
      kind: rt.listKind,
      metadata: { resourceVersion: result.resourceVersion, ...(result.continue ? { continue: result.continue } : {}) },
      items: await Promise.all(result.items.map((item) => this.conversion.fromStorage(rt, item))),
    };
  }

  async create(rt: ResourceType, namespace: string | undefined, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    const strategy = this.strategyOf(rt);
    const ctx = this.ctx();
    let obj = clone(input);
    let meta = obj.metadata;
    if (rt.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace ?? 'default';
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) throw StatusError.badRequest('resourceVersion should not be set on objects to be created');
    const generated = !meta.name && !!meta.generateName;
    if (!meta.name && !meta.generateName) {
      throw StatusError.invalid(rt.kind, rt.group, '', [fieldErrors.required('metadata.name', 'name or generateName is required')]);
    }
    if (rt.namespaced) await this.checkNamespaceOpen(rt, meta.namespace!, meta.name ?? meta.generateName ?? '');

    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(ctx.now);
    if (strategy.noGeneration) delete meta.generation;
    else meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    // Kubernetes records a create's fields after defaulting but before admission (prepareForCreate here), so
    // admission-added values (pod tolerations, priority) belong to no manager.
    if (opts.fieldManager && !opts.managedFieldsSet) {
      const seen = clone(obj);
      strategy.defaults?.(seen);
      recordWrite(rt, undefined, seen, opts.fieldManager, undefined, ctx.now);
      if (seen.metadata.managedFields) meta.managedFields = seen.metadata.managedFields;
      else delete meta.managedFields;
    }
    await strategy.admit?.(obj, undefined, this.admitCtx(opts));
    strategy.prepareForCreate?.(obj, ctx);
    strategy.defaults?.(obj);
    obj = await this.mutate(rt, obj, undefined, opts);
    meta = obj.metadata;
    // Registry-assigned values (a Service's ClusterIP) belong to no manager, as in Kubernetes.
    if (strategy.allocate) this.validateOrThrow(rt, obj, strategy.validate?.(obj, ctx) ?? []);
    const undo = opts.dryRun || !strategy.allocate ? undefined : await strategy.allocate(obj, undefined, this.allocationCtx(rt));

    try {
      for (let attempt = 0; ; attempt++) {
        if (generated) meta.name = `${meta.generateName}${randomSuffix()}`;
        this.validateOrThrow(rt, obj, [...this.validateMeta(rt, obj), ...(strategy.validate?.(obj, ctx) ?? []), ...(strategy.validateCreate?.(obj) ?? [])]);
        // Admission names an object by its generateName until it is stored (kube's extractResourceName).
        await this.admit(rt, obj, undefined, opts, generated ? meta.generateName! : meta.name!);
        opts.warnings?.push(...(strategy.warnings?.(obj, undefined) ?? []));
        if (opts.dryRun) return obj;
        try {
          const stored = await this.conversion.toStorage(rt, obj);
          const created = await this.conversion.fromStorage(rt, await this.guard(() => this.store.create(this.key(rt, meta.namespace, meta.name!), stored)));
          this.dynamicAdmission.written(rt);
          return created;
        } catch (err) {
          // A generated name that collides gets another suffix, as Kubernetes' clients would retry.
          if (isAlreadyExists(err) && generated && attempt < 3) continue;
          throw err;
        }
      }
    } catch (err) {
      await undo?.().catch(() => undefined);
      throw err;
    }
  }

  /** PUT: replaces the object (or its status). A resourceVersion in the body is a precondition. */
  async update(rt: ResourceType, namespace: string | undefined, name: string, input: KObject, opts: WriteOptions = {}): Promise<KObject> {
    if (input.metadata.name !== undefined && input.metadata.name !== name) {
      throw StatusError.badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (rt.namespaced && input.metadata.namespace && namespace && input.metadata.namespace !== namespace) {
      throw StatusError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    // Read once: the precondition is the body as sent, whatever a retry does to it.
    const demanded = input.metadata.resourceVersion;
    return this.guaranteedUpdate(
      rt,
      namespace,
      name,
      (current) => {
        checkResourceVersion(rt, name, demanded, current);
        return input;
      },
      opts,
    );
  }

  /**
   * Read-modify-write with retries: `mutate` gets the current object and
   * returns the desired one (it must not modify its argument). A conflict on
   * write re-reads and calls `mutate` again, so callers must be idempotent.
   */
  async guaranteedUpdate(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (current: KObject) => KObject | Promise<KObject>,
    opts: WriteOptions = {},
  ): Promise<KObject> {
    const key = this.key(rt, namespace, name);
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.get(rt, namespace, name);
      const desired = await mutate(current);
      const result = await this.applyUpdate(rt, key, current, desired, opts);
      if (result) return result;
    }
    throw StatusError.modified(refOf(rt), name);
  }

  /** Applies the shared and per-kind update rules and writes. Returns undefined when the object moved underneath (caller retries). */
  private async applyUpdate(rt: ResourceType, key: ObjectKey, old: KObject, input: KObject, opts: WriteOptions): Promise<KObject | undefined> {
    const strategy = this.strategyOf(rt);
    const ctx = this.ctx();
    if (input.metadata.uid && input.metadata.uid !== old.metadata.uid) {
      throw StatusError.conflict(
        refOf(rt),
        key.name,
        `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    let obj: KObject;
    let errors: FieldError[];
    const part = opts.subresource ? strategy.subresources?.[opts.subresource] : undefined;
    if (part) {
      obj = await this.mutate(rt, part.prepareForUpdate(clone(input), old, ctx), old, opts);
      errors = part.validateUpdate(obj, old);
    } else if (opts.subresource === 'status') {
      const candidate = clone(input);
      obj = strategy.prepareForStatusUpdate?.(candidate, old, ctx) ?? { ...clone(old), status: candidate.status };
      obj = await this.mutate(rt, obj, old, opts);
      errors = strategy.validateStatusUpdate?.(obj, old) ?? [];
    } else if (opts.subresource === 'binding') {
      // Built by the server from a Binding; spec.nodeName may change only this way.
      obj = clone(input);
      errors = [];
    } else if (opts.subresource === 'finalize') {
      // namespaces/{name}/finalize changes spec.finalizers and nothing else (ValidateNamespaceFinalizeUpdate checks their names).
      const finalizers = (input.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
      obj = { ...clone(old), spec: { ...(old.spec as object), finalizers } };
      errors = finalizers.flatMap((f, i) => validateFinalizerName(f, `spec.finalizers[${i}]`));
    } else {
      obj = clone(input);
      obj.apiVersion = old.apiVersion;
      obj.kind = old.kind;
      // A body may leave out name and namespace (the URL names them; callers refused mismatches): validate the stored ones.
      obj.metadata.name = old.metadata.name;
      if (rt.namespaced) obj.metadata.namespace = old.metadata.namespace;
      if (rt.subresources.includes('status')) {
        if (old.status === undefined) delete obj.status;
        else obj.status = clone(old.status);
      }
      await strategy.admit?.(obj, old, this.admitCtx(opts));
      strategy.prepareForUpdate?.(obj, old, ctx);
      strategy.defaults?.(obj);
      obj = await this.mutate(rt, obj, old, opts);
      errors = [...this.validateMeta(rt, obj), ...(strategy.validate?.(obj, ctx) ?? []), ...(strategy.validateUpdate?.(obj, old) ?? [])];
      // A refused write warns of nothing: writeUpdate throws on `errors` before the response carries these.
      if (errors.length === 0) opts.warnings?.push(...(strategy.warnings?.(obj, old) ?? []));
      if (strategy.allocate && errors.length === 0 && !opts.dryRun) {
        const undo = await strategy.allocate(obj, old, this.allocationCtx(rt));
        try {
          const stored = await this.writeUpdate(rt, key, old, obj, opts, []);
          if (stored === undefined || stored === old) await undo();
          return stored;
        } catch (err) {
          await undo().catch(() => undefined);
          throw err;
        }
      }
    }
    return this.writeUpdate(rt, key, old, obj, opts, errors);
  }

  /** The shared tail of an update: server-owned metadata, generation, field tracking, no-op detection, write. */
  private async writeUpdate(
    rt: ResourceType,
    key: ObjectKey,
    old: KObject,
    obj: KObject,
    opts: WriteOptions,
    errors: FieldError[],
  ): Promise<KObject | undefined> {
    const strategy = this.strategyOf(rt);
    const ctx = this.ctx();
    // Server-owned metadata always comes from the stored object.
    const meta = obj.metadata;
    meta.name = old.metadata.name;
    if (rt.namespaced) meta.namespace = old.metadata.namespace;
    meta.uid = old.metadata.uid;
    meta.creationTimestamp = old.metadata.creationTimestamp;
    meta.resourceVersion = old.metadata.resourceVersion;
    if (old.metadata.deletionTimestamp) meta.deletionTimestamp = old.metadata.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (old.metadata.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    else delete meta.deletionGracePeriodSeconds;
    if (strategy.noGeneration) delete meta.generation;
    else meta.generation = (old.metadata.generation ?? 1) + (deepEqual(specOf(obj), specOf(old)) ? 0 : 1);
    if (opts.fieldManager && !opts.managedFieldsSet && tracksSubresource(opts.subresource)) {
      recordWrite(rt, old, obj, opts.fieldManager, opts.subresource, ctx.now);
    } else if (opts.subresource && !opts.managedFieldsSet) {
      // Subresource writes never set managedFields themselves.
      if (old.metadata.managedFields) meta.managedFields = old.metadata.managedFields;
      else delete meta.managedFields;
    }
    if (old.metadata.deletionTimestamp) {
      const added = [...new Set((meta.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f)))].sort();
      if (added.length > 0) {
        // As ValidateNoNewFinalizers, which prints the list with Go's %#v.
        const list = `[]string{${added.map((f) => JSON.stringify(f)).join(', ')}}`;
        errors.push(
          fieldErrors.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${list}`),
        );
      }
    }
    this.validateOrThrow(rt, obj, errors);
    await this.admit(rt, obj, old, opts);

    if (deepEqual(comparable(obj), comparable(old))) return old;
    if (opts.dryRun) return obj;

    // An object being deleted goes once its last finalizer is gone and no grace period is running.
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !meta.deletionGracePeriodSeconds && !strategy.holdsDeletion?.(obj)) {
      const expected = await this.conversion.toStorage(rt, old);
      const res = await this.guard(() => this.store.delete(key, expected));
      if (res.ok) await this.afterWrite(rt, undefined, old);
      return res.ok ? this.conversion.fromStorage(rt, res.object) : undefined;
    }
    const [next, prev] = await Promise.all([this.conversion.toStorage(rt, obj), this.conversion.toStorage(rt, old)]);
    const res = await this.guard(() => this.store.update(key, next, prev));
    if (!res.ok) return undefined;
    this.dynamicAdmission.written(rt);
    const stored = await this.conversion.fromStorage(rt, res.object);
    await this.afterWrite(rt, stored, old);
    return stored;
  }

  /**
   * DELETE: removes the object now, or marks it for deletion when a grace
   * period or finalizers hold it. Returns the object and whether it is gone.
   */
  async delete(
    rt: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
    by: Pick<WriteOptions, 'user' | 'warnings'> = {},
  ): Promise<{ object: KObject; deleted: boolean }> {
    const strategy = this.strategyOf(rt);
    const key = this.key(rt, namespace, name);
    const policy = opts.propagationPolicy ?? strategy.defaultPropagation ?? 'Background';
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      // As the delete handler's ValidateDeleteOptions: 422 against meta.k8s.io DeleteOptions.
      throw StatusError.invalid('DeleteOptions', 'meta.k8s.io', '', [
        fieldErrors.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan']),
      ]);
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw StatusError.badRequest(`gracePeriodSeconds: Invalid value: ${opts.gracePeriodSeconds}: must be greater than or equal to 0`);
    }
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const current = await this.get(rt, namespace, name);
      const forbidden = strategy.forbidDelete?.(current);
      if (forbidden) throw StatusError.forbiddenObject(refOf(rt), name, forbidden);
      const pre = opts.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw StatusError.conflict(refOf(rt), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw StatusError.conflict(
          refOf(rt),
          name,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      await this.admitDelete(rt, current, { ...by, dryRun: opts.dryRun ?? false });
      const now = this.clock.now();
      const grace = strategy.gracePeriodSeconds?.(current, opts.gracePeriodSeconds) ?? 0;
      const finalizers = [...(current.metadata.finalizers ?? [])];
      const addFinalizer = (f: string) => {
        if (!finalizers.includes(f)) finalizers.push(f);
      };
      if (policy === 'Orphan') addFinalizer(FINALIZER_ORPHAN);
      if (policy === 'Foreground') addFinalizer(FINALIZER_FOREGROUND);
      if (policy !== 'Orphan' && opts.propagationPolicy) {
        // An explicit non-orphan policy replaces an earlier orphan request, as in Kubernetes.
        const i = finalizers.indexOf(FINALIZER_ORPHAN);
        if (i >= 0 && !(current.metadata.finalizers ?? []).includes(FINALIZER_ORPHAN)) finalizers.splice(i, 1);
      }
      if (finalizers.length === 0 && grace === 0 && !strategy.holdsDeletion?.(current)) {
        if (opts.dryRun) return { object: current, deleted: true };
        const expected = await this.conversion.toStorage(rt, current);
        const res = await this.guard(() => this.store.delete(key, expected));
        if (res.ok) {
          this.dynamicAdmission.written(rt);
          await this.afterWrite(rt, undefined, current);
          return { object: await this.conversion.fromStorage(rt, res.object), deleted: true };
        }
        continue;
      }
      const marked = clone(current);
      const meta = marked.metadata;
      const deadline = now + grace * 1000;
      // A later delete may shorten the grace period, never extend it.
      if (!meta.deletionTimestamp || Date.parse(meta.deletionTimestamp) > deadline) {
        meta.deletionTimestamp = rfc3339(deadline);
        meta.deletionGracePeriodSeconds = grace;
      }
      if (finalizers.length > 0) meta.finalizers = finalizers;
      strategy.prepareForDelete?.(marked);
      if (!current.metadata.deletionTimestamp && (meta.generation ?? 0) > 0) meta.generation = (meta.generation ?? 0) + 1;
      if (deepEqual(marked, current)) return { object: current, deleted: false };
      if (opts.dryRun) return { object: marked, deleted: false };
      const [next, prev] = await Promise.all([this.conversion.toStorage(rt, marked), this.conversion.toStorage(rt, current)]);
      const res = await this.guard(() => this.store.update(key, next, prev));
      if (res.ok) return { object: await this.conversion.fromStorage(rt, res.object), deleted: false };
    }
    throw StatusError.modified(refOf(rt), name);
  }

  /** Admission of a DELETE: the webhooks see the stored object as oldObject, and may not patch (there is no object). */
  private async admitDelete(rt: ResourceType, current: KObject, opts: WriteOptions): Promise<void> {
    const attrs = this.attributes(rt, 'DELETE', undefined, current, opts);
    if (!attrs) return;
    const warnings = opts.warnings ?? [];
    await this.dynamicAdmission.mutate(attrs, warnings);
    await this.dynamicAdmission.validate(attrs, warnings);
  }

  private async checkNamespaceOpen(rt: ResourceType, namespace: string, name: string): Promise<void> {
    const ns = await this.guard(() => this.store.get({ resource: storeResource(NAMESPACES), namespace: '', name: namespace }));
    if (!ns) throw StatusError.notFound(refOf(NAMESPACES), namespace);
    if (ns.metadata.deletionTimestamp) {
      // Kubernetes' NamespaceLifecycle admission: NewForbidden plus a NamespaceTerminating cause (no user in the message).
      const ref = refOf(rt);
      throw new StatusError(
        403,
        'Forbidden',
        `${ref.group ? `${ref.resource}.${ref.group}` : ref.resource} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        {
          name,
          ...(ref.group ? { group: ref.group } : {}),
          kind: ref.resource,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
        },
      );
    }
  }

  private validateMeta(rt: ResourceType, obj: KObject): FieldError[] {
    const strategy = this.strategyOf(rt);
    const errs: FieldError[] = [];
    const meta = obj.metadata;
    const name = meta.name ?? '';
    const check = strategy.nameRule ?? dns1123Subdomain;
    for (const msg of check(name)) errs.push(fieldErrors.invalid('metadata.name', name, msg));
    if (meta.generateName) {
      // The generated name adds 5 characters; the prefix alone must be a valid name start.
      for (const msg of check(`${meta.generateName}a`)) errs.push(fieldErrors.invalid('metadata.generateName', meta.generateName, msg));
    }
    if (rt.namespaced) for (const msg of dns1123Label(meta.namespace ?? '')) errs.push(fieldErrors.invalid('metadata.namespace', meta.namespace, msg));
    errs.push(...validateLabels(meta.labels, 'metadata.labels'));
    errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
    errs.push(...validateFinalizers(meta.finalizers, 'metadata.finalizers'));
    for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
      if (!ref.uid) errs.push(fieldErrors.required(`metadata.ownerReferences[${i}].uid`));
      if (!ref.name) errs.push(fieldErrors.required(`metadata.ownerReferences[${i}].name`));
    }
    if ((meta.ownerReferences ?? []).filter((r) => r.controller).length > 1) {
      errs.push(fieldErrors.invalid('metadata.ownerReferences', meta.ownerReferences, 'Only one reference can have Controller set to true'));
    }
    return errs;
  }

  private validateOrThrow(rt: ResourceType, obj: KObject, errors: FieldError[]): void {
    if (errors.length > 0) throw StatusError.invalid(rt.kind, rt.group, obj.metadata.name ?? '', errors);
  }

  /** Maps store failures to Status errors. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        throw StatusError.alreadyExists(groupResourceOf(err.key.resource), err.key.name);
      }
      if (err instanceof InvalidContinueError) throw StatusError.badRequest(`continue key is not valid: ${err.message}`);
      if (err instanceof StoreBusyError) throw StatusError.tooManyRequests(`the server is busy: ${err.message}`);
      if (err instanceof TooLargeError) throw StatusError.tooLarge(`Request entity too large: ${err.message}`);
      throw err;
    }
  }
}
