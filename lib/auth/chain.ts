/**
 * kube's union authorizer (k8s.io/apiserver/pkg/authorization/union): the
 * steps in order, the first allow or deny decides; when every step has no
 * opinion the request is refused with their reasons, one per line.
 * `rulesFor` gathers every step's rules (SelfSubjectRulesReview, and the
 * escalation check's "rules the user holds").
 */
import type { Authorizer, NonResourceAttributes, ResourceAttributes, SubjectRules, UserInfo } from '../api/request.js';
import type { AuthorizerStep, Decision } from './decision.js';

async function union(steps: readonly AuthorizerStep[], ask: (s: AuthorizerStep) => Promise<Decision>): Promise<string | undefined> {
  const reasons: string[] = [];
  for (const step of steps) {
    const d = await ask(step);
    if (d.decision === 'allow') return undefined;
    if (d.reason !== '') reasons.push(d.reason);
    if (d.decision === 'deny') return d.reason;
  }
  return reasons.join('\n');
}

export class AuthorizerChain implements Authorizer {
  constructor(readonly steps: readonly AuthorizerStep[]) {}

  authorize(user: UserInfo, attrs: ResourceAttributes): Promise<string | undefined> {
    return union(this.steps, (s) => s.authorize(user, attrs));
  }

  authorizeNonResource(user: UserInfo, attrs: NonResourceAttributes): Promise<string | undefined> {
    return union(this.steps, (s) => s.authorizeNonResource(user, attrs));
  }

  async rulesFor(user: UserInfo, namespace: string): Promise<SubjectRules> {
    const out: SubjectRules = { resourceRules: [], nonResourceRules: [], incomplete: false };
    const errors: string[] = [];
    for (const step of this.steps) {
      if (!step.rulesFor) continue;
      const r = await step.rulesFor(user, namespace);
      out.resourceRules.push(...r.resourceRules);
      out.nonResourceRules.push(...r.nonResourceRules);
      out.incomplete ||= r.incomplete;
      if (r.evaluationError) errors.push(r.evaluationError);
    }
    if (errors.length > 0) out.evaluationError = errors.join(', ');
    return out;
  }
}
