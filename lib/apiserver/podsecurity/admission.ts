/**
 * Pod Security Admission (after k8s.io/pod-security-admission/admission,
 * v0.35): pods are checked against their namespace's `enforce` level
 * (refused with 403) and `audit` and `warn` levels; workloads' pod
 * templates against `audit` and `warn` only (their pods meet `enforce` when
 * their controller creates them); namespaces' labels are validated, and a
 * tighter `enforce` label warns about the pods already running that would
 * violate it.
 *
 * kumo keeps no audit log: audit violations are recorded where upstream puts
 * them in the audit event, as the annotation
 * `pod-security.kubernetes.io/audit-violations`, on the object itself.
 */
import type { Container, PodSpec, PodTemplateSpec } from '../../api/core/v1/pod.js';
import type { KObject } from '../../api/object.js';
import type { ResourceType } from '../../api/registry.js';
import { StatusError } from '../../api/errors.js';
import { isBuiltin } from '../../kinds/resources.js';
import type { UserInfo } from '../../api/request.js';
import type { PodView } from './check.js';
import type { PodSecurityConfig } from './config.js';
import { evaluatePod, verdictOf, type Verdict } from './evaluator.js';
import {
  compareLevels,
  equivalentPolicies,
  formatLevelVersion,
  fullyPrivileged,
  LABELS,
  type LevelVersion,
  type Policy,
  policyToEvaluate,
  sameLevelVersion,
  sameVersion,
} from './levels.js';

/** The reads admission makes. */
export interface PodSecurityReader {
  namespace(name: string): Promise<KObject | undefined>;
  pods(namespace: string): Promise<KObject[]>;
}

export interface PodSecurityRequest {
  operation: 'CREATE' | 'UPDATE';
  rt: ResourceType;
  subresource?: string | undefined;
  object: KObject;
  old?: KObject | undefined;
  user?: UserInfo | undefined;
}

export interface PodSecurityOutcome {
  warnings: string[];
  /**
   * What to record in the audit-violations annotation: a message, null when
   * the object was checked and violates nothing, undefined when it was not
   * checked (an update keeps what it had).
   */
  auditViolations?: string | null;
}

/** Pod subresources that cannot change what the checks read (upstream's ignoredPodSubresources). */
const IGNORED_POD_SUBRESOURCES = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

/** Workloads whose pod template is checked (those of upstream's list that kumo serves). */
const POD_CONTROLLERS = new Set(['deployments', 'replicasets', 'daemonsets', 'jobs']);

/** Pods checked when a namespace's enforce level tightens (upstream's defaultNamespaceMaxPodsToCheck). */
const MAX_PODS_TO_CHECK = 3000;

const NOT_CHECKED: PodSecurityOutcome = { warnings: [] };

/** Whether an update can change what the checks read (upstream's isSignificantPodUpdate: only images may change in a pod). */
function significantPodUpdate(pod: PodSpec, old: PodSpec): boolean {
  const changed = (a: readonly Container[] | null | undefined, b: readonly Container[] | null | undefined) =>
    (a ?? []).length !== (b ?? []).length || (a ?? []).some((c, i) => c.image !== b![i]!.image);
  if (changed(pod.containers, old.containers) || changed(pod.initContainers, old.initContainers)) return true;
  const oldEphemeral = (old.ephemeralContainers ?? []) as Container[];
  return ((pod.ephemeralContainers ?? []) as Container[]).some((c) => {
    const before = oldEphemeral.find((o) => o.name === c.name);
    return !before || before.image !== c.image;
  });
}

function podView(meta: { annotations?: Record<string, string> | null } | null | undefined, spec: PodSpec): PodView {
  return { annotations: meta?.annotations ?? {}, spec };
}

export class PodSecurityAdmission {
  constructor(
    private readonly config: PodSecurityConfig,
    private readonly reader: PodSecurityReader,
  ) {}

  /** Whether a write of this resource may need checking at all. */
  applies(rt: ResourceType): boolean {
    return rt.group === '' ? rt.resource === 'pods' || rt.resource === 'namespaces' : POD_CONTROLLERS.has(rt.resource) && isBuiltin(rt);
  }

  /** Checks a create or update; throws the StatusError that refuses it. */
  async admit(req: PodSecurityRequest): Promise<PodSecurityOutcome> {
    if (req.rt.group === '' && req.rt.resource === 'namespaces') return this.admitNamespace(req);
    if (req.rt.group === '' && req.rt.resource === 'pods') return this.admitPod(req);
    if (this.applies(req.rt)) return this.admitPodController(req);
    return NOT_CHECKED;
  }

  private policyOf(labels: Record<string, string> | null | undefined) {
    return policyToEvaluate(labels, this.config.defaults);
  }

  private exempt(namespace: string | undefined, user: UserInfo | undefined): boolean {
    return (!!namespace && this.config.exemptions.namespaces.includes(namespace)) || (!!user?.name && this.config.exemptions.usernames.includes(user.name));
  }

  private async namespacePolicy(name: string) {
    const ns = await this.reader.namespace(name);
    if (!ns) throw StatusError.internal(`failed to lookup namespace "${name}"`);
    return this.policyOf(ns.metadata.labels);
  }

  private async admitPod(req: PodSecurityRequest): Promise<PodSecurityOutcome> {
    if (req.subresource && IGNORED_POD_SUBRESOURCES.has(req.subresource)) return NOT_CHECKED;
    const namespace = req.object.metadata.namespace ?? '';
    if (this.exempt(namespace, req.user)) return NOT_CHECKED;
    const { policy, errors } = await this.namespacePolicy(namespace);
    if (errors.length === 0 && fullyPrivileged(policy)) return { warnings: [], auditViolations: null };
    const spec = (req.object.spec ?? {}) as PodSpec;
    if (req.operation === 'UPDATE' && !significantPodUpdate(spec, (req.old?.spec ?? {}) as PodSpec)) return NOT_CHECKED;
    return this.evaluate(policy, podView(req.object.metadata, spec), req, true);
  }

  private async admitPodController(req: PodSecurityRequest): Promise<PodSecurityOutcome> {
    if (req.subresource) return NOT_CHECKED;
    const namespace = req.object.metadata.namespace ?? '';
    if (this.exempt(namespace, req.user)) return NOT_CHECKED;
    const { policy, errors } = await this.namespacePolicy(namespace);
    if (errors.length === 0 && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') return { warnings: [], auditViolations: null };
    const template = (req.object.spec as { template?: PodTemplateSpec | null } | undefined)?.template;
    if (!template) return NOT_CHECKED;
    return this.evaluate(policy, podView(template.metadata, template.spec ?? {}), req, false);
  }

  /** EvaluatePod: enforce (pods only), then audit, then warn unless refused; each level and version evaluated once. */
  private evaluate(policy: Policy, pod: PodView, req: PodSecurityRequest, enforce: boolean): PodSecurityOutcome {
    if (pod.spec.runtimeClassName && this.config.exemptions.runtimeClasses.includes(pod.spec.runtimeClassName)) return NOT_CHECKED;
    const verdicts: { lv: LevelVersion; verdict: Verdict }[] = [];
    const verdict = (lv: LevelVersion) => {
      const known = verdicts.find((v) => sameLevelVersion(v.lv, lv));
      if (known) return known.verdict;
      const v = verdictOf(evaluatePod(lv, pod));
      verdicts.push({ lv, verdict: v });
      return v;
    };
    if (enforce) {
      const v = verdict(policy.enforce);
      if (!v.allowed) {
        throw StatusError.forbiddenObject(
          { group: req.rt.group, resource: req.rt.resource },
          req.object.metadata.name ?? '',
          `violates PodSecurity ${JSON.stringify(formatLevelVersion(policy.enforce))}: ${v.detail}`,
        );
      }
    }
    const audit = verdict(policy.audit);
    const warn = verdict(policy.warn);
    return {
      auditViolations: audit.allowed ? null : `would violate PodSecurity ${JSON.stringify(formatLevelVersion(policy.audit))}: ${audit.detail}`,
      warnings: warn.allowed ? [] : [`would violate PodSecurity ${JSON.stringify(formatLevelVersion(policy.warn))}: ${warn.detail}`],
    };
  }

  private async admitNamespace(req: PodSecurityRequest): Promise<PodSecurityOutcome> {
    if (req.subresource) return NOT_CHECKED;
    const name = req.object.metadata.name ?? '';
    const labels = req.object.metadata.labels;
    const { policy, errors } = this.policyOf(labels);
    if (req.operation === 'CREATE') {
      if (errors.length > 0) throw StatusError.invalid('Namespace', '', name, errors);
      return { warnings: this.exemptNamespaceWarning(name, policy, labels) };
    }
    const before = this.policyOf(req.old?.metadata.labels);
    // Bad labels refuse an update only when they are new (a namespace that has them may still be changed otherwise).
    if (errors.length > 0 && (before.errors.length === 0 || JSON.stringify(errors) !== JSON.stringify(before.errors)))
      throw StatusError.invalid('Namespace', '', name, errors);
    const next = policy.enforce;
    const prev = before.policy.enforce;
    if (sameLevelVersion(next, prev) || next.level === 'privileged') return NOT_CHECKED;
    if (sameVersion(next.version, prev.version) && compareLevels(next.level, prev.level) < 1) return NOT_CHECKED;
    if (this.config.exemptions.namespaces.includes(name)) return { warnings: this.exemptNamespaceWarning(name, policy, labels) };
    return { warnings: await this.checkRunningPods(name, next) };
  }

  /** EvaluatePodsInNamespace: which running pods the new enforce level would refuse, one warning per distinct reason. */
  private async checkRunningPods(namespace: string, enforce: LevelVersion): Promise<string[]> {
    const all = (await this.reader.pods(namespace)).filter((p) => {
      const rc = (p.spec as PodSpec | undefined)?.runtimeClassName;
      return !(rc && this.config.exemptions.runtimeClasses.includes(rc));
    });
    // One pod per controller first: replicas share a template, so they share the verdict.
    const seen = new Set<string>();
    const first: KObject[] = [];
    const replicas: KObject[] = [];
    for (const p of all) {
      const owner = p.metadata.ownerReferences?.find((r) => r.controller)?.uid;
      if (owner && seen.has(owner)) replicas.push(p);
      else {
        if (owner) seen.add(owner);
        first.push(p);
      }
    }
    const pods = [...first, ...replicas].slice(0, MAX_PODS_TO_CHECK);
    const counts = new Map<string, { pod: string; count: number }>();
    for (const p of pods) {
      const v = verdictOf(evaluatePod(enforce, podView(p.metadata, (p.spec ?? {}) as PodSpec)));
      if (v.allowed) continue;
      const c = counts.get(v.reason);
      const name = p.metadata.name ?? '';
      if (!c) counts.set(v.reason, { pod: name, count: 1 });
      else counts.set(v.reason, { pod: name < c.pod ? name : c.pod, count: c.count + 1 });
    }
    const warnings: string[] = [];
    if (pods.length < all.length) warnings.push(`new PodSecurity enforce level only checked against the first ${pods.length} of ${all.length} existing pods`);
    if (counts.size > 0)
      warnings.push(
        `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(formatLevelVersion(enforce))}`,
      );
    const perReason = [...counts.entries()].map(([reason, c]) => {
      const who = c.count === 1 ? c.pod : c.count === 2 ? `${c.pod} (and 1 other pod)` : `${c.pod} (and ${c.count - 1} other pods)`;
      return `${who}: ${reason}`;
    });
    return [...warnings, ...perReason.sort()];
  }

  /** exemptNamespaceWarning: an exempt namespace's labels ask for a policy nothing applies. */
  private exemptNamespaceWarning(name: string, policy: Policy, labels: Record<string, string> | null | undefined): string[] {
    if (!this.config.exemptions.namespaces.includes(name) || fullyPrivileged(policy) || equivalentPolicies(policy, this.config.defaults)) return [];
    const has = (a: string, b: string) => labels?.[a] !== undefined || labels?.[b] !== undefined;
    const parts = [
      ...(policy.enforce.level !== 'privileged' && has(LABELS.enforce, LABELS.enforceVersion) ? [`enforce=${formatLevelVersion(policy.enforce)}`] : []),
      ...(policy.audit.level !== 'privileged' && has(LABELS.audit, LABELS.auditVersion) ? [`audit=${formatLevelVersion(policy.audit)}`] : []),
      ...(policy.warn.level !== 'privileged' && has(LABELS.warn, LABELS.warnVersion) ? [`warn=${formatLevelVersion(policy.warn)}`] : []),
    ];
    return [`namespace ${JSON.stringify(name)} is exempt from Pod Security, and the policy (${parts.join(', ')}) will be ignored`];
  }
}
