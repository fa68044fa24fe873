/**
 * The CEL environment of `x-kubernetes-validations`: @marcbachmann/cel-js's
 * standard library (macros, has(), matches(), size(), optional values, the
 * strings it ships: contains, startsWith, endsWith, indexOf, lastIndexOf,
 * lowerAscii, upperAscii, split, substring, trim, join), plus what kube adds
 * and it lacks, registered here with kube's names and meanings
 * (k8s.io/apiserver/pkg/cel/library and cel-go's strings extension):
 * charAt, replace, reverse, find/findAll, list sum/min/max/isSorted/
 * indexOf/lastIndexOf, url(), isURL(), ip(), isIP(), quantity(),
 * isQuantity() and the quantities' comparisons and arithmetic.
 */
import { isIP as netIsIP } from 'node:net';
import { Environment } from '@marcbachmann/cel-js';
import { parseQuantity } from '../api/quantity.js';

/** A kube `URL` value (library.URL): only absolute URIs and absolute paths parse. */
class KubeURL {
  constructor(readonly url: URL) {}
}

/** A kube `IP` value (library.IP). */
class KubeIP {
  constructor(
    readonly address: string,
    readonly family: number,
  ) {}
}

/** A kube `Quantity` value; compared and added in base units, as resource.Quantity does at kumo's precision. */
class KubeQuantity {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

/** An error a CEL function raises: the evaluation fails with this message, as cel-go's types.NewErr does. */
class CelFunctionError extends Error {
  override name = 'CelFunctionError';
}

function parseURL(s: string): URL | undefined {
  try {
    return s.startsWith('/') ? new URL(s, 'kumo-relative:/') : new URL(s);
  } catch {
    return undefined;
  }
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new CelFunctionError('no such overload');
}

function listIndexOf(list: unknown[], x: unknown, last: boolean): bigint {
  const eq = (v: unknown) => v === x || (typeof v === 'object' && JSON.stringify(v, bigintJSON) === JSON.stringify(x, bigintJSON));
  const i = last ? list.findLastIndex(eq) : list.findIndex(eq);
  return BigInt(i);
}

const bigintJSON = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);

function quantityOf(s: string): KubeQuantity {
  const v = parseQuantity(s);
  if (v === undefined) throw new CelFunctionError("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  return new KubeQuantity(s, v);
}

/**
 * A fresh environment declaring `self` and `oldSelf` (dynamic: the schema
 * gives the values their shape). For a rule with optionalOldSelf, oldSelf is
 * an optional value (`oldSelf.hasValue()`, `oldSelf.value()`), as in kube.
 */
export function newRuleEnvironment(optionalOldSelf: boolean): Environment {
  return newKubeEnvironment()
    .registerVariable('self', 'dyn')
    .registerVariable('oldSelf', optionalOldSelf ? 'optional<dyn>' : 'dyn');
}

/** A fresh environment with kube's CEL library and no variables: each use (CRD rules, admission) declares its own. */
export function newKubeEnvironment(): Environment {
  return (
    new Environment({ enableOptionalTypes: true, homogeneousAggregateLiterals: false, limits: { maxAstNodes: 10_000, maxDepth: 100 } })
      // strings (cel-go ext.Strings)
      .registerFunction('string.charAt(int): string', (s: string, i: bigint) => {
        if (i < 0n || i > BigInt(s.length)) throw new CelFunctionError(`index out of range: ${i}`);
        return s.charAt(Number(i));
      })
      .registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.replaceAll(a, b))
      .registerFunction('string.replace(string, string, int): string', (s: string, a: string, b: string, n: bigint) => {
        let out = s;
        let from = 0;
        for (let i = 0n; n < 0n || i < n; i++) {
          const at = out.indexOf(a, from);
          if (at < 0) break;
          out = out.slice(0, at) + b + out.slice(at + a.length);
          from = at + b.length;
        }
        return out;
      })
      .registerFunction('string.reverse(): string', (s: string) => [...s].reverse().join(''))
      // regex (k8s library.Regex)
      .registerFunction('string.find(string): string', (s: string, re: string) => new RegExp(re, 'u').exec(s)?.[0] ?? '')
      .registerFunction('string.findAll(string): list<string>', (s: string, re: string) => [...s.matchAll(new RegExp(re, 'gu'))].map((m) => m[0]))
      .registerFunction('string.findAll(string, int): list<string>', (s: string, re: string, n: bigint) => {
        const all = [...s.matchAll(new RegExp(re, 'gu'))].map((m) => m[0]);
        return n < 0n ? all : all.slice(0, Number(n));
      })
      // lists (k8s library.Lists)
      .registerFunction('list.sum(): dyn', (l: unknown[]) =>
        l.reduce<unknown>((a, b) => (typeof a === 'bigint' && typeof b === 'bigint' ? a + b : Number(a) + Number(b)), 0n),
      )
      .registerFunction('list.min(): dyn', (l: unknown[]) => {
        if (l.length === 0) throw new CelFunctionError('min called on empty list');
        return l.reduce((a, b) => (compare(a, b) <= 0 ? a : b));
      })
      .registerFunction('list.max(): dyn', (l: unknown[]) => {
        if (l.length === 0) throw new CelFunctionError('max called on empty list');
        return l.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
      })
      .registerFunction('list.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || compare(l[i - 1], x) <= 0))
      .registerFunction('list.indexOf(dyn): int', (l: unknown[], x: unknown) => listIndexOf(l, x, false))
      .registerFunction('list.lastIndexOf(dyn): int', (l: unknown[], x: unknown) => listIndexOf(l, x, true))
      // URLs (k8s library.URLs)
      .registerType('URL', KubeURL)
      .registerFunction('isURL(string): bool', (s: string) => parseURL(s) !== undefined)
      .registerFunction('url(string): URL', (s: string) => {
        const u = parseURL(s);
        if (!u) throw new CelFunctionError(`URL parse error during conversion from string: ${s}`);
        return new KubeURL(u);
      })
      .registerFunction('URL.getScheme(): string', (u: KubeURL) => (u.url.protocol === 'kumo-relative:' ? '' : u.url.protocol.replace(/:$/, '')))
      .registerFunction('URL.getHost(): string', (u: KubeURL) => u.url.host)
      .registerFunction('URL.getHostname(): string', (u: KubeURL) => u.url.hostname.replace(/^\[(.*)\]$/, '$1'))
      .registerFunction('URL.getPort(): string', (u: KubeURL) => u.url.port)
      .registerFunction('URL.getEscapedPath(): string', (u: KubeURL) => u.url.pathname)
      // IP addresses (k8s library.IP)
      .registerType('IP', KubeIP)
      .registerFunction('isIP(string): bool', (s: string) => netIsIP(s) !== 0)
      .registerFunction('ip(string): IP', (s: string) => {
        const family = netIsIP(s);
        if (family === 0) throw new CelFunctionError(`IP Address "${s}" parse error during conversion from string`);
        return new KubeIP(s, family);
      })
      .registerFunction('IP.family(): int', (ip: KubeIP) => BigInt(ip.family))
      .registerFunction('IP.isLoopback(): bool', (ip: KubeIP) => (ip.family === 4 ? ip.address.startsWith('127.') : ip.address === '::1'))
      // quantities (k8s library.Quantity)
      .registerType('Quantity', KubeQuantity)
      .registerFunction('isQuantity(string): bool', (s: string) => parseQuantity(s) !== undefined)
      .registerFunction('quantity(string): Quantity', (s: string) => quantityOf(s))
      .registerFunction('Quantity.compareTo(Quantity): int', (a: KubeQuantity, b: KubeQuantity) => BigInt(compare(a.value, b.value)))
      .registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value > b.value)
      .registerFunction('Quantity.isLessThan(Quantity): bool', (a: KubeQuantity, b: KubeQuantity) => a.value < b.value)
      .registerFunction(
        'Quantity.add(Quantity): Quantity',
        (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(String(a.value + b.value), a.value + b.value),
      )
      .registerFunction(
        'Quantity.sub(Quantity): Quantity',
        (a: KubeQuantity, b: KubeQuantity) => new KubeQuantity(String(a.value - b.value), a.value - b.value),
      )
      .registerFunction('Quantity.sign(): int', (q: KubeQuantity) => BigInt(Math.sign(q.value)))
      .registerFunction('Quantity.isInteger(): bool', (q: KubeQuantity) => Number.isInteger(q.value))
      .registerFunction('Quantity.asInteger(): int', (q: KubeQuantity) => {
        if (!Number.isInteger(q.value)) throw new CelFunctionError('cannot convert value to integer');
        return BigInt(q.value);
      })
      .registerFunction('Quantity.asApproximateFloat(): double', (q: KubeQuantity) => q.value)
  );
}
