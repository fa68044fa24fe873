/**
 * Ingress, IngressClass and NetworkPolicy (networking.k8s.io/v1) with the
 * real kubectl: the default class a cluster starts with and DefaultIngressClass
 * admission, kubectl's columns and describers, kube's validation messages,
 * and the warning that NetworkPolicy is not enforced yet.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kubectlSuite, rows } from './harness.js';

const k = kubectlSuite();
const NODE_EXPORTER = fileURLToPath(new URL('./fixtures/charts/prometheus-node-exporter', import.meta.url));
const PODINFO = fileURLToPath(new URL('./fixtures/charts/podinfo', import.meta.url));
const { ok, refused } = k;

function ingress(name: string, spec: string, meta = ''): string {
  return `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\n${meta}spec:\n${spec}`;
}

function policy(name: string, spec: string): string {
  return `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
}

const backend = (svc: string, port: string) => `        backend:\n          service:\n            name: ${svc}\n            port:\n${port}`;
const rule = (path: string, extra: string) => `  rules:\n  - host: web.example.com\n    http:\n      paths:\n      - path: ${path}\n${extra}`;

describe('IngressClass', () => {
  it('starts with the default class kumo, in kubectl get ingressclass columns, and describes it', async () => {
    const table = rows(await ok(['get', 'ingressclass']));
    expect(table[0]).toEqual(['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
    expect(table.find((r) => r[0] === 'kumo')).toEqual(['kumo', 'kumo.dev/ingress', '<none>', expect.any(String)]);
    expect(await ok(['describe', 'ingressclass', 'kumo'])).toBe(
      [
        'Name:         kumo',
        'Labels:       <none>',
        'Annotations:  ingressclass.kubernetes.io/is-default-class: true',
        'Controller:   kumo.dev/ingress',
        'Events:       <none>',
        '',
      ].join('\n'),
    );
  });

  it('refuses a controller that is no domain-prefixed path and a Namespace-scoped parameter without a namespace', async () => {
    const cls = (name: string, spec: string) => `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    expect(await refused(['create', '-f', '-'], cls('bad', '  controller: nginx\n'))).toBe(
      'The IngressClass "bad" is invalid: spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")',
    );
    expect(
      await refused(['create', '-f', '-'], cls('bad', '  controller: acme.io/lb\n  parameters:\n    kind: Params\n    name: p\n    scope: Namespace\n')),
    ).toBe('The IngressClass "bad" is invalid: spec.parameters.namespace: Required value: `parameters.scope` is set to \'Namespace\'');
    await ok(['create', '-f', '-'], cls('acme', '  controller: acme.io/lb\n  parameters:\n    apiGroup: acme.io\n    kind: Params\n    name: p\n'));
    expect(rows(await ok(['get', 'ingressclass', 'acme', '--no-headers']))[0]!.slice(0, 3)).toEqual(['acme', 'acme.io/lb', 'Params.acme.io/p']);
    expect(JSON.parse(await ok(['get', 'ingressclass', 'acme', '-o', 'json'])).spec.parameters.scope).toBe('Cluster');
    expect(await refused(['patch', 'ingressclass', 'acme', '--type=merge', '-p', '{"spec":{"controller":"acme.io/other"}}'])).toContain(
      'spec.controller: Invalid value: "acme.io/other": field is immutable',
    );
    expect(await ok(['get', 'ingressclass', 'bad', '--ignore-not-found'])).toBe('');
  });
});

describe('Ingress', () => {
  it('is created by kubectl create ingress, given the default class, and listed in kubectl columns', async () => {
    await ok(['create', 'namespace', 'ing']);
    expect(await ok(['create', 'ingress', 'simple', '-n', 'ing', '--rule=foo.com/bar=svc1:8080,tls=my-cert', '--rule=bar.com/*=svc2:http'])).toBe(
      'ingress.networking.k8s.io/simple created\n',
    );
    const table = rows(await ok(['get', 'ing', '-n', 'ing']));
    expect(table).toEqual([
      ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE'],
      ['simple', 'kumo', 'foo.com,bar.com', '80, 443', expect.any(String)],
    ]);
    const stored = JSON.parse(await ok(['get', 'ing', 'simple', '-n', 'ing', '-o', 'json']));
    expect(stored.spec.ingressClassName).toBe('kumo');
    expect(stored.status).toEqual({ loadBalancer: {} });
  });

  it('keeps a class it names, and none when it uses the deprecated annotation (with kube warning)', async () => {
    const spec = `  defaultBackend:\n    service:\n      name: web\n      port:\n        number: 80\n`;
    await ok(['create', '-n', 'ing', '-f', '-'], ingress('named', `  ingressClassName: acme\n${spec}`));
    const r = await k.kubectl(['create', '-n', 'ing', '-f', '-'], {
      stdin: ingress('annotated', spec, '  annotations:\n    kubernetes.io/ingress.class: nginx\n'),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`Warning: annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`);
    const classes = rows(await ok(['get', 'ing', 'named', 'annotated', '-n', 'ing', '--no-headers'])).map((row) => row.slice(0, 2));
    expect(classes).toEqual([
      ['named', 'acme'],
      ['annotated', '<none>'],
    ]);
  });

  it('describes rules with their backends and the Service endpoints that are ready', async () => {
    const svc = `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n`;
    const slice =
      'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\n  labels:\n    kubernetes.io/service-name: web\naddressType: IPv4\n' +
      'ports:\n- name: http\n  port: 8080\nendpoints:\n- addresses: ["10.1.0.7"]\n  conditions:\n    ready: true\n- addresses: ["10.1.0.8"]\n  conditions:\n    ready: false\n';
    await ok(['create', '-n', 'ing', '-f', '-'], `${svc}---\n${slice}`);
    const spec =
      `  tls:\n  - hosts: [web.example.com]\n    secretName: web-tls\n` +
      `${rule('/', `        pathType: Prefix\n${backend('web', '              number: 80\n')}`)}` +
      `      - path: /missing\n        pathType: Exact\n${backend('nowhere', '              name: http\n')}`;
    await ok(['create', '-n', 'ing', '-f', '-'], ingress('routed', spec));
    expect(await ok(['describe', 'ing', 'routed', '-n', 'ing'])).toBe(
      [
        'Name:             routed',
        'Labels:           <none>',
        'Namespace:        ing',
        'Address:          ',
        'Ingress Class:    kumo',
        'Default backend:  <default>',
        'TLS:',
        '  web-tls terminates web.example.com',
        'Rules:',
        '  Host             Path  Backends',
        '  ----             ----  --------',
        '  web.example.com  ',
        '                   /          web:80 (10.1.0.7:8080)',
        '                   /missing   nowhere:http (<error: services "nowhere" not found>)',
        'Annotations:       <none>',
        'Events:            <none>',
        '',
      ].join('\n'),
    );
  });

  it('refuses bad paths, backends and hosts with kube messages, and stores nothing', async () => {
    const svcBackend = backend('web', '              number: 80\n');
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', rule('/', svcBackend)))).toBe(
      'The Ingress "bad" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    );
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', rule('/', `        pathType: Regex\n${svcBackend}`)))).toBe(
      'The Ingress "bad" is invalid: spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    );
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', rule('api/../x', `        pathType: Prefix\n${svcBackend}`)))).toContain(
      'spec.rules[0].http.paths[0].path: Invalid value: "api/../x": must be an absolute path',
    );
    const both = `        backend:\n          service:\n            name: web\n            port:\n              number: 80\n          resource:\n            kind: Bucket\n            name: b\n`;
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', rule('/', `        pathType: Exact\n${both}`)))).toBe(
      'The Ingress "bad" is invalid: spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both resource and service backends',
    );
    const ipHost = `  rules:\n  - host: 10.0.0.1\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n${svcBackend}`;
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', ipHost))).toContain(
      'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
    );
    const wildcard = `  tls:\n  - hosts: ["*"]\n  defaultBackend:\n    service:\n      name: web\n      port:\n        number: 80\n`;
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', wildcard))).toContain(
      'spec.tls[0].hosts[0]: Invalid value: "*": a wildcard DNS-1123 subdomain must start with \'*.\'',
    );
    expect(await refused(['create', '-n', 'ing', '-f', '-'], ingress('bad', '  tls: []\n'))).toBe(
      'The Ingress "bad" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
    );
    expect(await ok(['get', 'ing', 'bad', '-n', 'ing', '--ignore-not-found'])).toBe('');
  });

  it('is explained and applied client-side and server-side from its Kubernetes type', async () => {
    expect(await ok(['explain', 'ingress.spec.rules.http.paths.pathType'])).toContain('pathType determines the interpretation of the path matching.');
    const spec = (n: number) => `  defaultBackend:\n    service:\n      name: web\n      port:\n        number: ${n}\n`;
    expect(await ok(['apply', '-n', 'ing', '-f', '-'], ingress('applied', spec(80)))).toBe('ingress.networking.k8s.io/applied created\n');
    expect(await ok(['apply', '-n', 'ing', '-f', '-'], ingress('applied', spec(81)))).toBe('ingress.networking.k8s.io/applied configured\n');
    expect(await ok(['apply', '--server-side', '--force-conflicts', '-n', 'ing', '-f', '-'], ingress('applied', spec(82)))).toBe(
      'ingress.networking.k8s.io/applied serverside-applied\n',
    );
    expect(JSON.parse(await ok(['get', 'ing', 'applied', '-n', 'ing', '-o', 'json'])).spec.defaultBackend.service.port).toEqual({ number: 82 });
  });

  it('is installed by a public chart (podinfo with ingress.enabled) and given the default class', async () => {
    await ok(['create', 'namespace', 'podinfo']);
    const r = await k.helm(['install', 'web', PODINFO, '-n', 'podinfo', '--set', 'ingress.enabled=true'], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(rows(await ok(['get', 'ing', '-n', 'podinfo', '--no-headers']))[0]!.slice(0, 4)).toEqual(['web-podinfo', 'kumo', 'podinfo.local', '80']);
    expect((await k.helm(['uninstall', 'web', '-n', 'podinfo'], { timeoutMs: 60_000 })).code).toBe(0);
    expect(await ok(['get', 'ing', '-n', 'podinfo', '-o', 'name'])).toBe('');
  });

  it('gets the newest of several default classes, as kube-apiserver picks it', async () => {
    const cls = `apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata:\n  name: newer\n  annotations:\n    ingressclass.kubernetes.io/is-default-class: "true"\nspec:\n  controller: example.com/newer\n`;
    await ok(['create', '-f', '-'], cls);
    try {
      await ok(['create', 'ingress', 'latest', '-n', 'ing', '--rule=late.example.com/=web:80']);
      expect(rows(await ok(['get', 'ing', 'latest', '-n', 'ing', '--no-headers']))[0]![1]).toBe('newer');
    } finally {
      await ok(['delete', 'ingressclass', 'newer']);
    }
  });
});

describe('NetworkPolicy', () => {
  it('is stored with its policy types inferred, warned of as not enforced, listed and described as kubectl does', async () => {
    await ok(['create', 'namespace', 'netpol']);
    const spec =
      '  podSelector:\n    matchLabels:\n      app: db\n' +
      '  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          role: api\n    - ipBlock:\n        cidr: 172.17.0.0/16\n        except: [172.17.1.0/24]\n    ports:\n    - port: 5432\n' +
      '  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          team: ops\n';
    const r = await k.kubectl(['create', '-n', 'netpol', '-f', '-'], { stdin: policy('db', spec) });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'Warning: NetworkPolicy is stored but not enforced: no node of this cluster programs network policies yet, so the selected pods accept and send all traffic (see docs/networkpolicy.md)\n',
    );
    await ok(['create', '-n', 'netpol', '-f', '-'], policy('deny-all', '  podSelector: {}\n'));
    expect(rows(await ok(['get', 'netpol', '-n', 'netpol']))).toEqual([
      ['NAME', 'POD-SELECTOR', 'AGE'],
      ['db', 'app=db', expect.any(String)],
      ['deny-all', '<none>', expect.any(String)],
    ]);
    const stored = JSON.parse(await ok(['get', 'netpol', 'db', '-n', 'netpol', '-o', 'json']));
    expect(stored.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(stored.spec.ingress[0].ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
    const described = await ok(['describe', 'netpol', 'db', '-n', 'netpol']);
    expect(described.replace(/^Created on:.*$/m, 'Created on:   <time>')).toBe(
      [
        'Name:         db',
        'Namespace:    netpol',
        'Created on:   <time>',
        'Labels:       <none>',
        'Annotations:  <none>',
        'Spec:',
        '  PodSelector:     app=db',
        '  Allowing ingress traffic:',
        '    To Port: 5432/TCP',
        '    From:',
        '      PodSelector: role=api',
        '    From:',
        '      IPBlock:',
        '        CIDR: 172.17.0.0/16',
        '        Except: 172.17.1.0/24',
        '  Allowing egress traffic:',
        '    To Port: <any> (traffic allowed to all ports)',
        '    To:',
        '      NamespaceSelector: team=ops',
        '  Policy Types: Ingress, Egress',
        '',
      ].join('\n'),
    );
    expect(await ok(['describe', 'netpol', 'deny-all', '-n', 'netpol'])).toContain(
      '  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)\n  Allowing ingress traffic:\n    <none> (Selected pods are isolated for ingress connectivity)\n  Not affecting egress traffic\n  Policy Types: Ingress\n',
    );
  });

  it('is explained and applied server-side from its Kubernetes type', async () => {
    expect(await ok(['explain', 'networkpolicy.spec.policyTypes'])).toContain('policyTypes is a list of rule types that the NetworkPolicy relates to.');
    const r = await k.kubectl(['apply', '--server-side', '-n', 'netpol', '-f', '-'], { stdin: policy('applied', '  podSelector: {}\n') });
    expect(r.stdout).toBe('networkpolicy.networking.k8s.io/applied serverside-applied\n');
    expect(r.stderr).toContain('Warning: NetworkPolicy is stored but not enforced');
  });

  it('warns on update too', async () => {
    const r = await k.kubectl(['label', 'netpol', 'deny-all', '-n', 'netpol', 'tier=base']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Warning: NetworkPolicy is stored but not enforced');
  });

  it('refuses bad peers, CIDRs, ports and policy types with kube messages, and stores nothing', async () => {
    const from = (peer: string) => `  podSelector: {}\n  ingress:\n  - from:\n    - ${peer}\n`;
    expect(await refused(['create', '-n', 'netpol', '-f', '-'], policy('bad', from('ipBlock:\n        cidr: 10.0.0.0/33')))).toBe(
      'The NetworkPolicy "bad" is invalid: spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    );
    expect(
      await refused(['create', '-n', 'netpol', '-f', '-'], policy('bad', from('ipBlock:\n        cidr: 10.0.0.0/16\n        except: [10.1.0.0/24]'))),
    ).toBe('The NetworkPolicy "bad" is invalid: spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`');
    expect(await refused(['create', '-n', 'netpol', '-f', '-'], policy('bad', from('ipBlock:\n        cidr: 10.0.0.0/16\n      podSelector: {}')))).toBe(
      'The NetworkPolicy "bad" is invalid: spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer',
    );
    expect(await refused(['create', '-n', 'netpol', '-f', '-'], policy('bad', '  podSelector: {}\n  ingress:\n  - from:\n    - {}\n'))).toBe(
      'The NetworkPolicy "bad" is invalid: spec.ingress[0].from[0]: Required value: must specify a peer',
    );
    expect(
      await refused(
        ['create', '-n', 'netpol', '-f', '-'],
        policy('bad', '  podSelector: {}\n  egress:\n  - ports:\n    - port: http\n      endPort: 90\n      protocol: ICMP\n'),
      ),
    ).toBe(
      'The NetworkPolicy "bad" is invalid: \n* spec.egress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"\n* spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric',
    );
    expect(await refused(['create', '-n', 'netpol', '-f', '-'], policy('bad', '  podSelector: {}\n  policyTypes: [Ingress, Both]\n'))).toBe(
      'The NetworkPolicy "bad" is invalid: spec.policyTypes[1]: Unsupported value: "Both": supported values: "Ingress", "Egress"',
    );
    expect(await ok(['get', 'netpol', 'bad', '-n', 'netpol', '--ignore-not-found'])).toBe('');
  });

  it('is installed by a public chart (prometheus-node-exporter with networkPolicy.enabled), helm told it is not enforced', async () => {
    await ok(['create', 'namespace', 'exporter']);
    const r = await k.helm(
      [
        'install',
        'nodes',
        NODE_EXPORTER,
        '-n',
        'exporter',
        '--set',
        'networkPolicy.enabled=true',
        '--set',
        'serviceAccount.create=false',
        '--set',
        'rbac.create=false',
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('NetworkPolicy is stored but not enforced');
    expect(rows(await ok(['get', 'netpol', '-n', 'exporter', '--no-headers']))[0]!.slice(0, 2)).toEqual([
      'nodes-prometheus-node-exporter',
      'app.kubernetes.io/instance=nodes,app.kubernetes.io/name=prometheus-node-exporter',
    ]);
    expect((await k.helm(['uninstall', 'nodes', '-n', 'exporter'], { timeoutMs: 60_000 })).code).toBe(0);
    expect(await ok(['get', 'netpol', '-n', 'exporter', '-o', 'name'])).toBe('');
  });
});
