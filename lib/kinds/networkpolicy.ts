/**
 * NetworkPolicy (networking.k8s.io/v1): namespaced. Which traffic the
 * selected pods may receive and send, after kube's
 * pkg/registry/networking/networkpolicy and pkg/apis/networking/validation
 * (messages word for word) and SetDefaults_NetworkPolicy (policyTypes
 * inferred, ports TCP). Stored and served only: no node programs a policy
 * yet (a later slice of issue 17), so every accepted write says so with a
 * warning rather than letting the policy look enforced (docs/networkpolicy.md).
 */
import { BlockList, isIP } from 'node:net';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import type { LabelSelector } from '../api/meta/v1/label-selector.js';
import { NetworkPolicySchema, type IPBlock, type NetworkPolicy, type NetworkPolicyPeer, type NetworkPolicyPort } from '../api/networking/v1/networkpolicy.js';
import { ianaServiceName } from '../api/validation.js';
import { AGE, col, NAME, selectorString, type Printer } from '../printers/columns.js';
import { age } from '../printers/duration.js';
import { goTimeString, printAnnotationsMultiline, printLabelsMultiline } from '../printers/describe/common.js';
import { LEVEL_0, LEVEL_1, LEVEL_2, type PrefixWriter, tabbed } from '../printers/describe/writer.js';
import { defineKind } from './kind.js';
import type { Strategy } from './strategy.js';
import { validateLabelSelector } from './validation/selector.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
const POLICY_TYPES = ['Ingress', 'Egress'] as const;

/** What every accepted create and update is told until the nodes enforce policies (issue 17). */
export const NOT_ENFORCED_WARNING =
  'NetworkPolicy is stored but not enforced: no node of this cluster programs network policies yet, so the selected pods accept and send all traffic (see docs/networkpolicy.md)';

const isSet = <T>(v: T | null | undefined): v is T => v !== undefined && v !== null;

/** ValidateNetworkPolicyPort. */
function validatePort(port: NetworkPolicyPort, at: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isSet(port.protocol) && !(PROTOCOLS as readonly string[]).includes(port.protocol)) {
    errs.push(fieldErrors.notSupported(`${at}.protocol`, port.protocol, PROTOCOLS));
  }
  const validNumber = (n: number) => n >= 1 && n <= 65535;
  const end = port.endPort;
  if (typeof port.port === 'number') {
    if (!validNumber(port.port)) errs.push(fieldErrors.invalid(`${at}.port`, port.port, 'must be between 1 and 65535, inclusive'));
    if (isSet(end)) {
      if (end < port.port) errs.push(fieldErrors.invalid(`${at}.endPort`, end, 'must be greater than or equal to `port`'));
      if (!validNumber(end)) errs.push(fieldErrors.invalid(`${at}.endPort`, end, 'must be between 1 and 65535, inclusive'));
    }
  } else if (isSet(port.port)) {
    if (isSet(end)) errs.push(fieldErrors.invalid(`${at}.endPort`, end, 'may not be specified when `port` is non-numeric'));
    for (const msg of ianaServiceName(port.port)) errs.push(fieldErrors.invalid(`${at}.port`, port.port, msg));
  } else if (isSet(end)) {
    errs.push(fieldErrors.invalid(`${at}.endPort`, end, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

/** netutils.ParseCIDRSloppy's shape: an address and a prefix length its family allows. */
function parseCidr(cidr: string): { address: string; bits: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = cidr.indexOf('/');
  const address = cidr.slice(0, slash);
  const version = isIP(address);
  const bitsText = cidr.slice(slash + 1);
  const bits = Number(bitsText);
  if (slash < 0 || version === 0 || !/^\d+$/.test(bitsText) || bits > (version === 4 ? 32 : 128)) return undefined;
  return { address, bits, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const INVALID_CIDR = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** ValidateIPBlock: a CIDR, and exceptions strictly inside it. */
function validateIPBlock(block: IPBlock, at: string): FieldError[] {
  const cidrText = block.cidr ?? '';
  if (cidrText === '') return [fieldErrors.required(`${at}.cidr`)];
  const cidr = parseCidr(cidrText);
  if (!cidr) return [fieldErrors.invalid(`${at}.cidr`, cidrText, INVALID_CIDR)];
  const errs: FieldError[] = [];
  const inside = new BlockList();
  inside.addSubnet(cidr.address, cidr.bits, cidr.family);
  (block.except ?? []).forEach((text, i) => {
    const except = parseCidr(text);
    if (!except) errs.push(fieldErrors.invalid(`${at}.except[${i}]`, text, INVALID_CIDR));
    else if (except.family !== cidr.family || !inside.check(except.address, except.family) || cidr.bits >= except.bits) {
      errs.push(fieldErrors.invalid(`${at}.except[${i}]`, text, 'must be a strict subset of `cidr`'));
    }
  });
  return errs;
}

/** ValidateNetworkPolicyPeer: at least one of the selectors or an ipBlock, and an ipBlock alone. */
function validatePeer(peer: NetworkPolicyPeer, at: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  if (isSet(peer.podSelector)) {
    count++;
    errs.push(...validateLabelSelector(peer.podSelector, `${at}.podSelector`));
  }
  if (isSet(peer.namespaceSelector)) {
    count++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${at}.namespaceSelector`));
  }
  if (isSet(peer.ipBlock)) {
    count++;
    errs.push(...validateIPBlock(peer.ipBlock, `${at}.ipBlock`));
  }
  if (count === 0) errs.push(fieldErrors.required(at, 'must specify a peer'));
  else if (count > 1 && isSet(peer.ipBlock)) errs.push(fieldErrors.forbidden(at, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateNetworkPolicySpec. */
function validateSpec(np: NetworkPolicy): FieldError[] {
  const spec = np.spec ?? {};
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector');
  (spec.ingress ?? []).forEach((rule, i) => {
    const at = `spec.ingress[${i}]`;
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `${at}.ports[${j}]`)));
    (rule.from ?? []).forEach((p, j) => errs.push(...validatePeer(p, `${at}.from[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    const at = `spec.egress[${i}]`;
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `${at}.ports[${j}]`)));
    (rule.to ?? []).forEach((p, j) => errs.push(...validatePeer(p, `${at}.to[${j}]`)));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > POLICY_TYPES.length) {
    // field.Invalid prints the Go slice with %#v.
    const shown = `[]networking.PolicyType{${types.map((t) => JSON.stringify(t)).join(', ')}}`;
    errs.push(fieldErrors.invalidOmitted('spec.policyTypes', `${shown}: may not specify more than two policyTypes`));
    return errs;
  }
  types.forEach((t, i) => {
    if (!(POLICY_TYPES as readonly string[]).includes(t)) errs.push(fieldErrors.notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return errs;
}

const networkPolicyStrategy: Strategy = {
  // SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort.
  defaults(obj) {
    const np = obj as NetworkPolicy;
    np.spec ??= {};
    const spec = np.spec;
    spec.podSelector ??= {};
    for (const rule of [...(spec.ingress ?? []), ...(spec.egress ?? [])]) for (const port of rule.ports ?? []) port.protocol ??= 'TCP';
    // A policy naming no types restricts ingress, and egress too when it has egress rules.
    if ((spec.policyTypes ?? []).length === 0) spec.policyTypes = (spec.egress ?? []).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  },
  validate(obj) {
    return validateSpec(obj as NetworkPolicy);
  },
  warnings() {
    return [NOT_ENFORCED_WARNING];
  },
};

/** printNetworkPolicySpecIngressFrom / EgressTo: one rule's ports and peers. */
function describePeers(w: PrefixWriter, direction: 'From' | 'To', ports: readonly NetworkPolicyPort[], peers: readonly NetworkPolicyPeer[]): void {
  const indent = '    ';
  if (ports.length === 0) w.write(LEVEL_0, `${indent}To Port: <any> (traffic allowed to all ports)\n`);
  for (const port of ports) {
    const proto = port.protocol ?? 'TCP';
    const from = isSet(port.port) ? String(port.port) : '<nil>';
    w.write(LEVEL_0, isSet(port.endPort) ? `${indent}To Port Range: ${from}-${port.endPort}/${proto}\n` : `${indent}To Port: ${from}/${proto}\n`);
  }
  if (peers.length === 0) {
    const why = direction === 'From' ? 'source' : 'destination';
    w.write(LEVEL_0, `${indent}${direction}: <any> (traffic not restricted by ${why})\n`);
    return;
  }
  const sel = (s: LabelSelector) => selectorString(s);
  for (const peer of peers) {
    w.write(LEVEL_0, `${indent}${direction}:\n`);
    if (isSet(peer.podSelector) && isSet(peer.namespaceSelector)) {
      w.write(LEVEL_1, `${indent}NamespaceSelector: ${sel(peer.namespaceSelector)}\n`);
      w.write(LEVEL_1, `${indent}PodSelector: ${sel(peer.podSelector)}\n`);
    } else if (isSet(peer.podSelector)) w.write(LEVEL_1, `${indent}PodSelector: ${sel(peer.podSelector)}\n`);
    else if (isSet(peer.namespaceSelector)) w.write(LEVEL_1, `${indent}NamespaceSelector: ${sel(peer.namespaceSelector)}\n`);
    else if (isSet(peer.ipBlock)) {
      w.write(LEVEL_1, `${indent}IPBlock:\n`);
      w.write(LEVEL_2, `${indent}CIDR: ${peer.ipBlock.cidr ?? ''}\n`);
      w.write(LEVEL_2, `${indent}Except: ${(peer.ipBlock.except ?? []).join(', ')}\n`);
    }
  }
}

/** kubectl's NetworkPolicyDescriber (describeNetworkPolicySpec). */
function describeSpec(np: NetworkPolicy, w: PrefixWriter): void {
  const spec = np.spec ?? {};
  w.write(LEVEL_0, 'Spec:\n');
  w.write(LEVEL_1, 'PodSelector: ');
  const selector = spec.podSelector ?? {};
  const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
  w.write(LEVEL_2, empty ? '<none> (Allowing the specific traffic to all pods in this namespace)\n' : `${selectorString(selector)}\n`);
  const sections = [
    { title: 'ingress', rules: (spec.ingress ?? []).map((r) => ({ ports: r.ports ?? [], peers: r.from ?? [] })), direction: 'From' as const },
    { title: 'egress', rules: (spec.egress ?? []).map((r) => ({ ports: r.ports ?? [], peers: r.to ?? [] })), direction: 'To' as const },
  ];
  const types = spec.policyTypes ?? [];
  for (const { title, rules, direction } of sections) {
    // A direction the policy's types leave out is not restricted by it, whatever its rules say.
    if (!types.includes(direction === 'From' ? 'Ingress' : 'Egress')) {
      w.write(LEVEL_1, `Not affecting ${title} traffic\n`);
      continue;
    }
    w.write(LEVEL_1, `Allowing ${title} traffic:\n`);
    if (rules.length === 0) w.write(LEVEL_0, `    <none> (Selected pods are isolated for ${title} connectivity)\n`);
    rules.forEach((r, i) => {
      describePeers(w, direction, r.ports, r.peers);
      if (i !== rules.length - 1) w.write(LEVEL_0, '    ----------\n');
    });
  }
  if (types.length > 0) w.write(LEVEL_1, `Policy Types: ${types.join(', ')}\n`);
}

/** kubectl get networkpolicy (printNetworkPolicy). */
const networkPolicyPrinter: Printer = {
  columns: [NAME, col('Pod-Selector'), AGE],
  row(obj, now) {
    const np = obj as NetworkPolicy;
    return [np.metadata.name ?? '', selectorString(np.spec?.podSelector ?? {}), age(np.metadata.creationTimestamp, now)];
  },
};

export const networkPolicyKind = defineKind({
  group: 'networking.k8s.io',
  version: 'v1',
  kind: 'NetworkPolicy',
  resource: 'networkpolicies',
  namespaced: true,
  schema: NetworkPolicySchema,
  shortNames: ['netpol'],
  categories: [],
  subresources: [],
  garbageCollection: { dependent: true, owner: false },
  authorization: { nodes: 'read' },
  strategy: networkPolicyStrategy,
  printer: networkPolicyPrinter,
  // kubectl's NetworkPolicyDescriber, which prints no events.
  describer: async (obj) => {
    const np = obj as NetworkPolicy;
    return tabbed((w) => {
      w.write(LEVEL_0, `Name:\t${np.metadata.name ?? ''}\n`);
      w.write(LEVEL_0, `Namespace:\t${np.metadata.namespace ?? ''}\n`);
      w.write(LEVEL_0, `Created on:\t${goTimeString(np.metadata.creationTimestamp)}\n`);
      printLabelsMultiline(w, 'Labels', np.metadata.labels);
      printAnnotationsMultiline(w, 'Annotations', np.metadata.annotations);
      describeSpec(np, w);
    });
  },
});
