/**
 * Pod spec validation (after pkg/apis/core/validation ValidatePodSpec), used
 * for pods and for the pod templates of Deployments, ReplicaSets and Jobs.
 * Paths name the field as the user wrote it, e.g.
 * `spec.template.spec.containers[0].image`.
 */
import type { Container, EphemeralContainer, PodSpec, Probe } from '../../api/core/v1/pod.js';
import { DNS_POLICIES, validatePodDNSConfig } from '../../api/core/v1/pod-dns.js';
import { fieldErrors, type FieldError } from '../../api/field-errors.js';
import { parseQuantity } from '../../api/quantity.js';
import { dns1123Label, ianaServiceName } from '../../api/validation.js';

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

function validateProbe(p: Probe | null | undefined, path: string, errs: FieldError[]): void {
  if (!p) return;
  const handlers = [p.exec, p.httpGet, p.tcpSocket, p.grpc].filter((h) => h !== undefined && h !== null);
  if (handlers.length === 0) errs.push(fieldErrors.required(path, 'must specify a handler type'));
  if (handlers.length > 1) errs.push(fieldErrors.forbidden(path, 'may not specify more than 1 handler type'));
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = p[f];
    if (v !== undefined && v !== null && v < 0) errs.push(fieldErrors.invalid(`${path}.${f}`, v, 'must be greater than or equal to 0'));
  }
  for (const f of ['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    const v = p[f];
    if (v !== undefined && v !== null && v < 1) errs.push(fieldErrors.invalid(`${path}.${f}`, v, 'must be greater than or equal to 1'));
  }
  if (p.exec && (p.exec.command ?? []).length === 0) errs.push(fieldErrors.required(`${path}.exec.command`));
  const port = p.httpGet?.port ?? p.tcpSocket?.port;
  const portPath = p.httpGet ? `${path}.httpGet.port` : `${path}.tcpSocket.port`;
  if (port !== undefined) validatePortRef(port, portPath, errs);
}

function validatePortRef(port: number | string, path: string, errs: FieldError[]): void {
  if (typeof port === 'number') {
    if (port < 1 || port > 65535) errs.push(fieldErrors.invalid(path, port, 'must be between 1 and 65535, inclusive'));
  } else {
    for (const msg of ianaServiceName(port)) errs.push(fieldErrors.invalid(path, port, msg));
  }
}

/** What every kind of container (app, init, ephemeral) is checked for, as kube's validateContainerCommon. */
function validateContainerCommon(c: Container, path: string, volumes: Set<string>, errs: FieldError[]): void {
  if (!c.name) errs.push(fieldErrors.required(`${path}.name`));
  else for (const msg of dns1123Label(c.name)) errs.push(fieldErrors.invalid(`${path}.name`, c.name, msg));
  if (!c.image || c.image.trim() === '') errs.push(fieldErrors.required(`${path}.image`));
  if (c.imagePullPolicy && !(PULL_POLICIES as readonly string[]).includes(c.imagePullPolicy)) {
    errs.push(fieldErrors.notSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  const portNames = new Set<string>();
  for (const [i, port] of (c.ports ?? []).entries()) {
    const pp = `${path}.ports[${i}]`;
    if (port.containerPort < 1 || port.containerPort > 65535) {
      errs.push(fieldErrors.invalid(`${pp}.containerPort`, port.containerPort, 'must be between 1 and 65535, inclusive'));
    }
    if (port.hostPort !== undefined && port.hostPort !== null && port.hostPort !== 0 && (port.hostPort < 1 || port.hostPort > 65535)) {
      errs.push(fieldErrors.invalid(`${pp}.hostPort`, port.hostPort, 'must be between 1 and 65535, inclusive'));
    }
    if (port.protocol && !(PROTOCOLS as readonly string[]).includes(port.protocol)) {
      errs.push(fieldErrors.notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
    }
    if (port.name) {
      for (const msg of ianaServiceName(port.name)) errs.push(fieldErrors.invalid(`${pp}.name`, port.name, msg));
      if (portNames.has(port.name)) errs.push(fieldErrors.duplicate(`${pp}.name`, port.name));
      portNames.add(port.name);
    }
  }
  const envNames = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
  for (const [i, env] of (c.env ?? []).entries()) {
    if (!env.name) errs.push(fieldErrors.required(`${path}.env[${i}].name`));
    else if (!envNames.test(env.name)) {
      errs.push(
        fieldErrors.invalid(
          `${path}.env[${i}].name`,
          env.name,
          "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
        ),
      );
    }
    if (env.value !== undefined && env.value !== null && env.valueFrom) {
      errs.push(fieldErrors.invalid(`${path}.env[${i}].valueFrom`, '', 'may not be specified when `value` is not empty'));
    }
  }
  for (const [i, m] of (c.volumeMounts ?? []).entries()) {
    if (!m.name) errs.push(fieldErrors.required(`${path}.volumeMounts[${i}].name`));
    else if (!volumes.has(m.name)) errs.push(fieldErrors.notFound(`${path}.volumeMounts[${i}].name`, m.name));
    if (!m.mountPath) errs.push(fieldErrors.required(`${path}.volumeMounts[${i}].mountPath`));
  }
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  for (const [kind, list] of [
    ['limits', limits],
    ['requests', requests],
  ] as const) {
    for (const [name, q] of Object.entries(list)) {
      const parsed = parseQuantity(q);
      if (parsed === undefined) {
        errs.push(
          fieldErrors.invalid(
            `${path}.resources.${kind}[${name}]`,
            q,
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          ),
        );
      } else if (parsed < 0) {
        errs.push(fieldErrors.invalid(`${path}.resources.${kind}[${name}]`, q, 'must be greater than or equal to 0'));
      }
    }
  }
  for (const [name, q] of Object.entries(requests)) {
    const l = limits[name];
    if (l === undefined) continue;
    const rq = parseQuantity(q);
    const lq = parseQuantity(l);
    if (rq !== undefined && lq !== undefined && rq > lq) {
      errs.push(fieldErrors.invalid(`${path}.resources.requests`, String(q), `must be less than or equal to ${name} limit of ${String(l)}`));
    }
  }
}

function validateContainer(c: Container, path: string, volumes: Set<string>, isInit: boolean, errs: FieldError[]): void {
  validateContainerCommon(c, path, volumes, errs);
  if (isInit) {
    if (c.restartPolicy && c.restartPolicy !== 'Always') errs.push(fieldErrors.notSupported(`${path}.restartPolicy`, c.restartPolicy, ['Always']));
    const sidecar = c.restartPolicy === 'Always';
    if (!sidecar) {
      if (c.livenessProbe) errs.push(fieldErrors.forbidden(`${path}.livenessProbe`, 'may not be set for init containers without restartPolicy=Always'));
      if (c.readinessProbe) errs.push(fieldErrors.forbidden(`${path}.readinessProbe`, 'may not be set for init containers without restartPolicy=Always'));
      if (c.startupProbe) errs.push(fieldErrors.forbidden(`${path}.startupProbe`, 'may not be set for init containers without restartPolicy=Always'));
    }
  } else if (c.restartPolicy) {
    errs.push(fieldErrors.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
  }
  validateProbe(c.livenessProbe, `${path}.livenessProbe`, errs);
  validateProbe(c.readinessProbe, `${path}.readinessProbe`, errs);
  validateProbe(c.startupProbe, `${path}.startupProbe`, errs);
  if (c.livenessProbe?.successThreshold !== undefined && c.livenessProbe.successThreshold !== null && c.livenessProbe.successThreshold !== 1) {
    errs.push(fieldErrors.invalid(`${path}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'));
  }
}

/**
 * Fields of Container an ephemeral container may not set, in kube's field
 * order: it must not be relied on for the pod's service (no ports, probes,
 * lifecycle hooks or resources), and it is never restarted.
 */
const EPHEMERAL_FORBIDDEN = [
  'ports',
  'resources',
  'resizePolicy',
  'restartPolicy',
  'restartPolicyRules',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
] as const;

/** Whether a field is set, as Go sees it: a nil pointer or slice is unset; `resources` is a struct, unset while all its parts are. */
function isSet(field: string, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (field === 'resources' && typeof value === 'object') return Object.values(value).some((v) => v !== undefined && v !== null);
  return true;
}

/** kube's validateEphemeralContainers: `others` are the pod's app and init container names. */
function validateEphemeralContainers(
  list: readonly EphemeralContainer[],
  path: string,
  volumes: Set<string>,
  others: ReadonlySet<string>,
  errs: FieldError[],
): void {
  const names = new Set(others);
  for (const [i, ec] of list.entries()) {
    const p = `${path}[${i}]`;
    validateContainerCommon(ec, p, volumes, errs);
    if (ec.image && ec.image.trim() !== ec.image) errs.push(fieldErrors.invalid(`${p}.image`, ec.image, 'must not have leading or trailing whitespace'));
    if (ec.name) {
      if (names.has(ec.name)) errs.push(fieldErrors.duplicate(`${p}.name`, ec.name));
      names.add(ec.name);
    }
    // The target must be one of the pod's own containers, never another ephemeral one.
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) errs.push(fieldErrors.notFound(`${p}.targetContainerName`, ec.targetContainerName));
    const fields = ec as Record<string, unknown>;
    for (const f of EPHEMERAL_FORBIDDEN) if (isSet(f, fields[f])) errs.push(fieldErrors.forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    // subPath mounts are bind mounts that outlive the container: they would tie it to the workload.
    for (const [j, m] of (ec.volumeMounts ?? []).entries()) {
      if (m.subPath) errs.push(fieldErrors.forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
      if (m.subPathExpr) errs.push(fieldErrors.forbidden(`${p}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'));
    }
  }
}

/** Validates a pod spec found at `path` (e.g. `spec` or `spec.template.spec`). */
export function validatePodSpec(spec: PodSpec | null | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [fieldErrors.required(path)];
  const volumes = new Set<string>();
  for (const [i, v] of (spec.volumes ?? []).entries()) {
    const vp = `${path}.volumes[${i}]`;
    if (!v.name) errs.push(fieldErrors.required(`${vp}.name`));
    else {
      for (const msg of dns1123Label(v.name)) errs.push(fieldErrors.invalid(`${vp}.name`, v.name, msg));
      if (volumes.has(v.name)) errs.push(fieldErrors.duplicate(`${vp}.name`, v.name));
      volumes.add(v.name);
    }
    const sources = ['emptyDir', 'hostPath', 'configMap', 'secret', 'persistentVolumeClaim', 'downwardAPI', 'projected'].filter(
      (k) => (v as Record<string, unknown>)[k] !== undefined && (v as Record<string, unknown>)[k] !== null,
    );
    if (sources.length > 1) errs.push(fieldErrors.forbidden(vp, 'may not specify more than 1 volume type'));
    if (v.hostPath && !v.hostPath.path) errs.push(fieldErrors.required(`${vp}.hostPath.path`));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) errs.push(fieldErrors.required(`${vp}.persistentVolumeClaim.claimName`));
  }
  const containers = spec.containers ?? [];
  if (containers.length === 0) errs.push(fieldErrors.required(`${path}.containers`));
  const names = new Set<string>();
  const all: [Container, string, boolean][] = [
    ...(spec.initContainers ?? []).map((c, i): [Container, string, boolean] => [c, `${path}.initContainers[${i}]`, true]),
    ...containers.map((c, i): [Container, string, boolean] => [c, `${path}.containers[${i}]`, false]),
  ];
  for (const [c, cp, isInit] of all) {
    validateContainer(c, cp, volumes, isInit, errs);
    if (c.name) {
      if (names.has(c.name)) errs.push(fieldErrors.duplicate(`${cp}.name`, c.name));
      names.add(c.name);
    }
  }
  validateEphemeralContainers(spec.ephemeralContainers ?? [], `${path}.ephemeralContainers`, volumes, names, errs);
  if (spec.restartPolicy && !(RESTART_POLICIES as readonly string[]).includes(spec.restartPolicy)) {
    errs.push(fieldErrors.notSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy && !(DNS_POLICIES as readonly string[]).includes(spec.dnsPolicy)) {
    errs.push(fieldErrors.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  }
  errs.push(...validatePodDNSConfig(spec.dnsConfig, spec.dnsPolicy, `${path}.dnsConfig`));
  // The names the cluster DNS serves a pod under (hostname.subdomain.ns.svc.cluster.local): DNS labels.
  for (const f of ['hostname', 'subdomain'] as const) {
    const v = spec[f];
    if (v) for (const msg of dns1123Label(v)) errs.push(fieldErrors.invalid(`${path}.${f}`, v, msg));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds !== null && spec.terminationGracePeriodSeconds < 0) {
    errs.push(fieldErrors.invalid(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null && spec.activeDeadlineSeconds < 1) {
    errs.push(fieldErrors.invalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  for (const [i, t] of (spec.tolerations ?? []).entries()) {
    const tp = `${path}.tolerations[${i}]`;
    if (t.operator && t.operator !== 'Exists' && t.operator !== 'Equal') errs.push(fieldErrors.notSupported(`${tp}.operator`, t.operator, ['Equal', 'Exists']));
    if (t.operator === 'Exists' && t.value) errs.push(fieldErrors.invalid(`${tp}.operator`, t.operator, "value must be empty when `operator` is 'Exists'"));
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(fieldErrors.notSupported(`${tp}.effect`, t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(fieldErrors.invalid(`${tp}.effect`, t.effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
  }
  return errs;
}
