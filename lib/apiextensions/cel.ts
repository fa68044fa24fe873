/**
 * `x-kubernetes-validations`: CEL rules on a schema node, evaluated with
 * `self` (the node's value) and, for transition rules, `oldSelf` (the value
 * it replaces on update), as apiextensions-apiserver's schema/cel does.
 *
 * Bounds: kube meters each rule in cost units and refuses a CRD whose rules'
 * estimated cost is too high. Neither JavaScript CEL evaluator meters cost,
 * so here one object's rules run under a wall-clock limit instead (node:vm's
 * timeout, which also interrupts a regular expression that backtracks): when
 * it is reached, evaluation stops and the object is refused with kube's
 * "running out of cost budget" error. A rule cannot stall the server.
 */
import vm from 'node:vm';
import { Optional, type Environment } from '@marcbachmann/cel-js';
import { fieldErrors, type FieldError } from '../api/field-errors.js';
import { isPlainObject } from '../util/json.js';
import { newRuleEnvironment } from './cel-library.js';
import { child, index } from './paths.js';
import { additionalPropertiesOf, itemsOf } from './structural.js';
import type { JSONSchemaProps, ValidationRule } from './types.js';

type Program = ReturnType<Environment['parse']>;

/** A rule as compiled for one schema node. */
interface CompiledRule {
  rule: ValidationRule;
  program?: Program;
  message?: Program;
  usesOldSelf: boolean;
}

/** What compiling one rule found: kube reports these on the CRD (spec...x-kubernetes-validations[i].rule). */
export interface RuleCompileResult {
  ruleError?: string;
  messageExpressionError?: string;
  usesOldSelf: boolean;
}

/** The default wall-clock budget for one object's rules, in milliseconds. */
export const DEFAULT_CEL_TIME_LIMIT_MS = 250;

const plainEnv = newRuleEnvironment(false);
const optionalEnv = newRuleEnvironment(true);
const envFor = (r: ValidationRule) => (r.optionalOldSelf === true ? optionalEnv : plainEnv);

/** Whether the expression names `oldSelf` outside string literals. */
function mentionsOldSelf(expr: string): boolean {
  return /\boldSelf\b/.test(expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""'));
}

/** The first line of an error's message (cel-js errors carry a source excerpt below it). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}

/** Compiles (parses and type-checks) each rule of a node, with kube's error wording. */
export function compileRules(rules: readonly ValidationRule[]): RuleCompileResult[] {
  return rules.map((r) => {
    const out: RuleCompileResult = { usesOldSelf: mentionsOldSelf(r.rule ?? '') };
    const env = envFor(r);
    const checked = env.check(r.rule ?? '');
    if (!checked.valid) out.ruleError = `compilation failed: ERROR: <input>: ${firstLine(checked.error)}`;
    else if (checked.type !== 'bool' && checked.type !== 'dyn') out.ruleError = 'cel expression must evaluate to a bool';
    if (r.messageExpression) {
      const m = env.check(r.messageExpression);
      if (!m.valid) out.messageExpressionError = `messageExpression compilation failed: ERROR: <input>: ${firstLine(m.error)}`;
      else if (m.type !== 'string' && m.type !== 'dyn') out.messageExpressionError = 'must evaluate to a string';
    }
    return out;
  });
}

function compile(rules: readonly ValidationRule[]): CompiledRule[] {
  return rules.map((rule) => {
    const c: CompiledRule = { rule, usesOldSelf: mentionsOldSelf(rule.rule ?? '') };
    try {
      c.program = envFor(rule).parse(rule.rule ?? '');
      if (rule.messageExpression) c.message = envFor(rule).parse(rule.messageExpression);
    } catch {
      // The CRD's validation refused such a rule; a stored one that no longer compiles fails at evaluation.
    }
    return c;
  });
}

/** Converts a JSON value to CEL's: integers where the schema says integer (CEL ints are BigInt), timestamps for date-time strings. */
export function toCel(v: unknown, s: JSONSchemaProps | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isInteger(v) && s?.type !== 'number' ? BigInt(v) : v;
  if (typeof v === 'string') return s?.type === 'string' && s.format === 'date-time' && !Number.isNaN(Date.parse(v)) ? new Date(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(x, s ? itemsOf(s) : undefined));
  if (isPlainObject(v)) {
    const ap = s ? additionalPropertiesOf(s) : undefined;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toCel(x, s?.properties?.[k] ?? ap)]));
  }
  return v;
}

/** At a resource's root, rules see apiVersion, kind and only metadata.name and generateName, as in kube. */
function rootView(obj: unknown, s: JSONSchemaProps): unknown {
  const view = toCel(obj, s) as Record<string, unknown>;
  if (isPlainObject(obj) && isPlainObject(obj.metadata)) {
    const { name, generateName } = obj.metadata;
    view.metadata = Object.fromEntries(Object.entries({ name, generateName }).filter(([, x]) => x !== undefined));
  }
  return view;
}

export interface CelValidatorOptions {
  /** Wall-clock budget for one object's rules (ms). */
  timeLimitMs?: number;
}

/** Evaluates every rule of a schema against an object (and its previous version on update). */
export interface CelValidator {
  validate(obj: unknown, oldObj?: unknown, path?: string): FieldError[];
}

/** A CEL evaluation ran past its wall-clock budget (withTimeLimit). */
export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded';
}

const context = vm.createContext({ run: () => undefined });
const runScript = new vm.Script('run()');

/** Runs fn under a wall-clock limit; throws BudgetExceeded when it is reached. */
export function withTimeLimit(fn: () => void, ms: number): void {
  context.run = fn;
  try {
    runScript.runInContext(context, { timeout: ms });
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new BudgetExceeded('timeout', { cause: e });
    throw e;
  } finally {
    context.run = () => undefined;
  }
}

/** Whether a schema node or anything under it has rules; remembered per node, as schemas of stored CRDs are not mutated. */
const rulesBelow = new WeakMap<JSONSchemaProps, boolean>();

function hasRules(s: JSONSchemaProps | undefined): boolean {
  if (!s) return false;
  let has = rulesBelow.get(s);
  if (has === undefined) {
    has =
      (s['x-kubernetes-validations'] ?? []).length > 0 ||
      hasRules(itemsOf(s)) ||
      hasRules(additionalPropertiesOf(s)) ||
      Object.values(s.properties ?? {}).some(hasRules);
    rulesBelow.set(s, has);
  }
  return has;
}

/** A validator for a version's schema, or undefined when it has no rules. `isResourceRoot` for a whole object's schema. */
export function newCelValidator(schema: JSONSchemaProps, isResourceRoot: boolean, opts: CelValidatorOptions = {}): CelValidator | undefined {
  if (!hasRules(schema)) return undefined;
  const compiled = new Map<JSONSchemaProps, CompiledRule[]>();
  const rulesOf = (s: JSONSchemaProps) => {
    let c = compiled.get(s);
    if (!c) compiled.set(s, (c = compile(s['x-kubernetes-validations'] ?? [])));
    return c;
  };
  const limit = opts.timeLimitMs ?? DEFAULT_CEL_TIME_LIMIT_MS;
  return {
    validate(obj, oldObj, path = '') {
      const errs: FieldError[] = [];
      const at = { path, type: schema.type ?? 'object' };
      try {
        withTimeLimit(() => walk(schema, obj, oldObj, path, isResourceRoot, errs, rulesOf, at), limit);
      } catch (e) {
        if (!(e instanceof BudgetExceeded)) throw e;
        errs.push(fieldErrors.invalid(at.path, at.type, 'validation failed due to running out of cost budget, no further validation rules will be run'));
      }
      return errs;
    },
  };
}

type RulesOf = (s: JSONSchemaProps) => CompiledRule[];

function walk(
  s: JSONSchemaProps,
  obj: unknown,
  oldObj: unknown,
  path: string,
  isRoot: boolean,
  errs: FieldError[],
  rulesOf: RulesOf,
  at: { path: string; type: string },
): void {
  if (obj === null || obj === undefined) return;
  if ((s['x-kubernetes-validations'] ?? []).length > 0) {
    at.path = path;
    at.type = s.type ?? 'object';
    evaluateNode(s, obj, oldObj, path, isRoot, errs, rulesOf(s));
  }
  if (isPlainObject(obj)) {
    const old = isPlainObject(oldObj) ? oldObj : undefined;
    const ap = additionalPropertiesOf(s);
    // An atomic map is replaced whole: its entries have no previous version to compare with.
    const correlatable = s['x-kubernetes-map-type'] !== 'atomic';
    for (const [k, v] of Object.entries(obj)) {
      const prop = s.properties?.[k];
      if (prop && hasRules(prop)) walk(prop, v, correlatable ? old?.[k] : undefined, child(path, k), false, errs, rulesOf, at);
      else if (!prop && ap && hasRules(ap)) walk(ap, v, correlatable ? old?.[k] : undefined, `${path}[${k}]`, false, errs, rulesOf, at);
    }
  } else if (Array.isArray(obj)) {
    const items = itemsOf(s);
    if (!items || !hasRules(items)) return;
    const keys = s['x-kubernetes-list-type'] === 'map' ? (s['x-kubernetes-list-map-keys'] ?? []) : undefined;
    const oldList = Array.isArray(oldObj) ? oldObj : [];
    obj.forEach((v, i) => walk(items, v, keys ? correlate(keys, v, oldList) : undefined, index(path, i), false, errs, rulesOf, at));
  }
}

/** Only items of a map list correlate with a previous version: the old item with the same keys. */
function correlate(keys: string[], item: unknown, oldList: unknown[]): unknown {
  if (!isPlainObject(item)) return undefined;
  return oldList.find((o) => isPlainObject(o) && keys.every((k) => o[k] === item[k]));
}

const REASONS: Record<string, (path: string, value: unknown, detail: string) => FieldError> = {
  FieldValueForbidden: (p, _v, d) => fieldErrors.forbidden(p, d),
  FieldValueRequired: (p, _v, d) => fieldErrors.required(p, d),
  FieldValueDuplicate: (p, v) => fieldErrors.duplicate(p, v),
};

const ruleErrorString = (r: ValidationRule) => (r.message ? r.message.trim() : (r.rule ?? '').trim());

function evaluateNode(s: JSONSchemaProps, obj: unknown, oldObj: unknown, path: string, isRoot: boolean, errs: FieldError[], rules: CompiledRule[]): void {
  const type = s.type ?? 'object';
  const self = isRoot ? rootView(obj, s) : toCel(obj, s);
  const oldSelf = oldObj === undefined ? undefined : isRoot ? rootView(oldObj, s) : toCel(oldObj, s);
  for (const c of rules) {
    const optionalOldSelf = c.rule.optionalOldSelf === true;
    if (c.usesOldSelf && oldSelf === undefined && !optionalOldSelf) continue;
    if (!c.program) {
      errs.push(fieldErrors.invalid(path, type, `rule compile error: ${c.rule.rule ?? ''}`));
      continue;
    }
    const activation = { self, oldSelf: optionalOldSelf ? (oldSelf === undefined ? Optional.none() : Optional.of(oldSelf)) : oldSelf };
    let result: unknown;
    try {
      result = c.program(activation);
    } catch (e) {
      if (e instanceof BudgetExceeded || (e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw e;
      const msg = firstLine(e);
      errs.push(
        fieldErrors.invalid(
          path,
          type,
          /no matching overload|no such overload/.test(msg)
            ? `'${msg}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(c.rule)}`
            : `${msg} evaluating rule: ${ruleErrorString(c.rule)}`,
        ),
      );
      continue;
    }
    if (result === true) continue;
    const fieldPath = c.rule.fieldPath ? child(path, c.rule.fieldPath.trim().replace(/^\./, '')) : path;
    const detail = messageOf(c, activation) ?? (c.rule.message ? c.rule.message.trim() : `failed rule: ${ruleErrorString(c.rule)}`);
    const reason = c.rule.reason ? REASONS[c.rule.reason] : undefined;
    if (reason) errs.push(reason(fieldPath, obj, detail));
    else if (type === 'object' || type === 'array') errs.push(fieldErrors.invalidOmitted(fieldPath, detail));
    else errs.push(fieldErrors.invalid(fieldPath, obj, detail));
  }
}

/** The messageExpression's text, or undefined to fall back to message (kube logs and ignores a failing one). */
function messageOf(c: CompiledRule, activation: Record<string, unknown>): string | undefined {
  if (!c.message) return undefined;
  try {
    const v = c.message(activation);
    if (typeof v !== 'string') return undefined;
    const text = v.trim();
    return text && text.length <= 5 * 1024 && !text.includes('\n') ? text : undefined;
  } catch (e) {
    if (e instanceof BudgetExceeded || (e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw e;
    return undefined;
  }
}
