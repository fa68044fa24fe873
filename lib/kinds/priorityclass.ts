/**
 * PriorityClass (scheduling.k8s.io/v1): cluster-scoped. A name for a pod
 * priority, after kube's pkg/registry/scheduling/priorityclass (validation,
 * the two system classes created at bootstrap and never deleted) and the
 * Priority admission plugin (one global default; a pod's priorityClassName
 * resolved to spec.priority, which admitPodPriority does for the pod kind).
 */
import { StatusError } from '../api/errors.js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { KObject } from '../api/object.js';
import type { Pod } from '../api/core/v1/pod.js';
import { PriorityClassSchema, type PriorityClass } from '../api/scheduling/v1/priorityclass.js';
import { AGE, col, NAME, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { describeEvents } from '../printers/describe/common.js';
import { LEVEL_0, tabbed } from '../printers/describe/writer.js';
import { formatLabels } from '../printers/table-printer.js';
import { deepEqual } from '../util/json.js';
import { defineKind } from './kind.js';
import type { AdmitContext, Strategy } from './strategy.js';

/** scheduling.HighestUserDefinablePriority: a class not named `system-*` may not exceed it. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
/** scheduling.SystemCriticalPriority. */
const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;
const SYSTEM_PREFIX = 'system-';
const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'] as const;

/** The system classes every cluster starts with (pkg/apis/scheduling/v1 SystemPriorityClasses). */
const SYSTEM_CLASSES: readonly PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-node-critical' },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-cluster-critical' },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/** scheduling.IsKnownSystemPriorityClass: why `pc` is not one of the system classes, or undefined when it is. */
function notSystemClass(pc: PriorityClass): string | undefined {
  const known = SYSTEM_CLASSES.find((s) => s.metadata.name === pc.metadata.name);
  if (!known) return `${pc.metadata.name} is not a known system priority class`;
  if (known.value !== pc.value) return `value of ${known.metadata.name} PriorityClass must be ${known.value}`;
  if ((known.globalDefault ?? false) !== (pc.globalDefault ?? false)) {
    return `globalDefault of ${known.metadata.name} PriorityClass must be ${known.globalDefault ?? false}`;
  }
  return undefined;
}

/** The global default class (the lowest value if a race made several), as the Priority plugin picks it. */
function defaultClass(classes: readonly PriorityClass[]): PriorityClass | undefined {
  let found: PriorityClass | undefined;
  for (const pc of classes) if (pc.globalDefault && (!found || (found.value ?? 0) > (pc.value ?? 0))) found = pc;
  return found;
}

async function priorityClasses(ctx: AdmitContext): Promise<PriorityClass[]> {
  return (await ctx.list({ group: 'scheduling.k8s.io', resource: 'priorityclasses' })) as unknown as PriorityClass[];
}

function forbidden(resource: string, group: string, name: string, why: string): StatusError {
  return StatusError.forbiddenObject({ group, resource }, name, why);
}

const priorityClassStrategy: Strategy = {
  noGeneration: true,
  defaults(obj) {
    const pc = obj as PriorityClass;
    pc.value ??= 0;
    pc.preemptionPolicy ??= 'PreemptLowerPriority';
  },
  validate(obj) {
    const pc = obj as PriorityClass;
    const errors: FieldError[] = [];
    if ((pc.metadata.name ?? '').startsWith(SYSTEM_PREFIX)) {
      const why = notSystemClass(pc);
      if (why)
        errors.push(
          fieldErrors.forbidden('metadata.name', `priority class names with '${SYSTEM_PREFIX}' prefix are reserved for system use only. error: ${why}`),
        );
    } else if ((pc.value ?? 0) > HIGHEST_USER_DEFINABLE_PRIORITY) {
      errors.push(fieldErrors.forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
    }
    const policy = pc.preemptionPolicy;
    if (policy === '') errors.push(fieldErrors.required('preemptionPolicy'));
    else if (policy && !(PREEMPTION_POLICIES as readonly string[]).includes(policy))
      errors.push(fieldErrors.notSupported('preemptionPolicy', policy, PREEMPTION_POLICIES));
    return errors;
  },
  validateUpdate(obj, old) {
    const pc = obj as PriorityClass;
    const prev = old as PriorityClass;
    const errors: FieldError[] = [];
    if ((pc.value ?? 0) !== (prev.value ?? 0)) errors.push(fieldErrors.forbidden('value', 'may not be changed in an update.'));
    if (!deepEqual(pc.preemptionPolicy, prev.preemptionPolicy)) errors.push(fieldErrors.invalid('preemptionPolicy', pc.preemptionPolicy, 'field is immutable'));
    return errors;
  },
  // Priority admission: one class at most is the global default.
  async admit(obj, old, ctx) {
    const pc = obj as PriorityClass;
    if (!pc.globalDefault) return;
    const current = defaultClass(await priorityClasses(ctx));
    if (current && (!old || current.metadata.name !== pc.metadata.name)) {
      throw forbidden(
        'priorityclasses',
        'scheduling.k8s.io',
        pc.metadata.name ?? '',
        `PriorityClass ${current.metadata.name} is already marked as default. Only one default can exist`,
      );
    }
  },
  // kube's priorityclass REST storage: the system classes are never deleted.
  forbidDelete(obj) {
    return SYSTEM_CLASSES.some((s) => s.metadata.name === obj.metadata.name) ? 'this is a system priority class and cannot be deleted' : undefined;
  },
};

/**
 * The Priority admission plugin's pod half, on create: a pod's
 * priorityClassName resolves to its class's value and preemption policy; no
 * name takes the global default's (its name too), or priority 0 and
 * PreemptLowerPriority when there is none. An unknown class, or a priority or
 * policy in the pod that differs from the computed one, is refused (403).
 * On update the strategy keeps what create set.
 */
export async function admitPodPriority(obj: KObject, old: KObject | undefined, ctx: AdmitContext): Promise<void> {
  if (old) return;
  const pod = obj as Pod;
  pod.spec ??= {};
  const spec = pod.spec;
  // kube's admission.NewForbidden for the pod (its name is empty when generateName will name it).
  const refuse = (why: string) => forbidden('pods', '', obj.metadata.name ?? '', why);
  const classes = await priorityClasses(ctx);
  let priority = 0;
  let policy: string | null | undefined = 'PreemptLowerPriority';
  if (!spec.priorityClassName) {
    const dflt = defaultClass(classes);
    if (dflt) {
      spec.priorityClassName = dflt.metadata.name;
      priority = dflt.value ?? 0;
      policy = dflt.preemptionPolicy;
    }
  } else {
    const pc = classes.find((c) => c.metadata.name === spec.priorityClassName);
    if (!pc) throw refuse(`no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value ?? 0;
    policy = pc.preemptionPolicy;
  }
  const computed = 'priority admission controller computed';
  if (spec.priority !== undefined && spec.priority !== null && spec.priority !== priority) {
    throw refuse(
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; ${computed} ${priority} from the given PriorityClass name`,
    );
  }
  spec.priority = priority;
  if (!policy) return;
  if (spec.preemptionPolicy && spec.preemptionPolicy !== policy) {
    throw refuse(
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; ${computed} ${policy} from the given PriorityClass name`,
    );
  }
  spec.preemptionPolicy = policy;
}

/** kubectl get priorityclass (pkg/printers/internalversion printPriorityClass). */
const priorityClassPrinter: Printer = {
  columns: [NAME, col('Value', 'integer'), col('Global-Default', 'boolean'), AGE, col('PreemptionPolicy')],
  row(obj, now) {
    const pc = obj as PriorityClass;
    return [pc.metadata.name ?? '', pc.value ?? 0, pc.globalDefault ?? false, age(pc.metadata.creationTimestamp, now), pc.preemptionPolicy || '<unset>'];
  },
};

export const priorityClassKind = defineKind({
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  resource: 'priorityclasses',
  namespaced: false,
  schema: PriorityClassSchema,
  shortNames: ['pc'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: false, owner: true },
  authorization: { nodes: 'none' },
  strategy: priorityClassStrategy,
  printer: priorityClassPrinter,
  // kubectl's PriorityClassDescriber.
  describer: async (obj, ctx) => {
    const pc = obj as PriorityClass;
    const events = await ctx.events();
    return tabbed((w) => {
      w.write(LEVEL_0, `Name:\t${pc.metadata.name ?? ''}\n`);
      w.write(LEVEL_0, `Value:\t${pc.value ?? 0}\n`);
      w.write(LEVEL_0, `GlobalDefault:\t${pc.globalDefault ?? false}\n`);
      w.write(LEVEL_0, `PreemptionPolicy:\t${pc.preemptionPolicy ?? ''}\n`);
      w.write(LEVEL_0, `Description:\t${pc.description ?? ''}\n`);
      w.write(LEVEL_0, `Annotations:\t${formatLabels(pc.metadata.annotations)}\n`);
      if (events) describeEvents(events, w, ctx.now);
    });
  },
  bootstrap: SYSTEM_CLASSES as readonly KObject[],
});
