/**
 * CEL for admission (kube's k8s.io/apiserver/pkg/admission/plugin/cel): the
 * expressions of webhook matchConditions and of ValidatingAdmissionPolicy
 * (validations, messageExpression, variables, matchConditions), evaluated
 * with `object`, `oldObject`, `request`, `params`, `namespaceObject` and
 * `variables`, on the same library and wall-clock budget as CRD rules
 * (cel-library.ts, cel.ts). `authorizer` is not declared: an expression
 * naming it does not compile.
 */
import type { Environment } from '@marcbachmann/cel-js';
import { BudgetExceeded, DEFAULT_CEL_TIME_LIMIT_MS, firstLine, toCel, withTimeLimit } from './cel.js';
import { newKubeEnvironment } from './cel-library.js';

type Program = ReturnType<Environment['parse']>;

/** What an admission expression sees; values are JSON (converted to CEL's types here). Absent ones are null. */
export interface AdmissionActivation {
  object?: unknown;
  oldObject?: unknown;
  request: unknown;
  params?: unknown;
  namespaceObject?: unknown;
  /** Already CEL values (what earlier variables evaluated to). */
  variables?: Record<string, unknown>;
}

const env = newKubeEnvironment()
  .registerVariable('object', 'dyn')
  .registerVariable('oldObject', 'dyn')
  .registerVariable('request', 'dyn')
  .registerVariable('params', 'dyn')
  .registerVariable('namespaceObject', 'dyn')
  .registerVariable('variables', 'map<string, dyn>');

/** The result type an expression must have where it is used. */
export type ExpressionType = 'bool' | 'string' | 'any';

/** Why an expression does not compile in kube's words (cel.ErrorTypeInvalid details), or undefined. */
export function checkAdmissionExpression(expression: string, want: ExpressionType = 'bool'): string | undefined {
  const checked = env.check(expression);
  if (!checked.valid) return `compilation failed: ERROR: <input>: ${firstLine(checked.error)}`;
  if (want === 'bool' && checked.type !== 'bool' && checked.type !== 'dyn') return `must evaluate to bool`;
  if (want === 'string' && checked.type !== 'string' && checked.type !== 'dyn') return `must evaluate to string`;
  return undefined;
}

/** A compiled expression; evaluation errors (and a budget run out) throw AdmissionExpressionError. */
export interface AdmissionExpression {
  readonly expression: string;
  evaluate(activation: AdmissionActivation): unknown;
}

/** An expression that did not compile or failed to evaluate; the message is kube's (`expression 'x' resulted in error: ...`). */
export class AdmissionExpressionError extends Error {
  override name = 'AdmissionExpressionError';
}

/** The activation as CEL values: integers as CEL ints, absent values null. */
function celActivation(a: AdmissionActivation): Record<string, unknown> {
  return {
    object: toCel(a.object ?? null, undefined),
    oldObject: toCel(a.oldObject ?? null, undefined),
    request: toCel(a.request, undefined),
    params: toCel(a.params ?? null, undefined),
    namespaceObject: toCel(a.namespaceObject ?? null, undefined),
    variables: a.variables ?? {},
  };
}

/** Compiles an expression once; a compile error surfaces when it is evaluated (the object's validation refused it on write). */
export function compileAdmissionExpression(expression: string, timeLimitMs = DEFAULT_CEL_TIME_LIMIT_MS): AdmissionExpression {
  let program: Program | undefined;
  let compileError: string | undefined;
  try {
    program = env.parse(expression);
  } catch (e) {
    compileError = firstLine(e);
  }
  return {
    expression,
    evaluate(activation) {
      if (!program) throw new AdmissionExpressionError(`compilation failed: ${compileError ?? ''}`);
      const run = program;
      const values = celActivation(activation);
      let result: unknown;
      try {
        withTimeLimit(() => {
          result = run(values);
        }, timeLimitMs);
      } catch (e) {
        if (e instanceof BudgetExceeded) throw new AdmissionExpressionError('operation cancelled: actual cost limit exceeded', { cause: e });
        throw new AdmissionExpressionError(`expression '${expression}' resulted in error: ${firstLine(e)}`, { cause: e });
      }
      return result;
    },
  };
}

/** Compiled expressions by text: configurations are re-read often and their expressions rarely change. Bounded. */
const compiledByText = new Map<string, AdmissionExpression>();

/** compileAdmissionExpression, once per expression text. */
export function admissionExpression(expression: string): AdmissionExpression {
  let e = compiledByText.get(expression);
  if (!e) {
    if (compiledByText.size >= 1000) compiledByText.clear();
    compiledByText.set(expression, (e = compileAdmissionExpression(expression)));
  }
  return e;
}
