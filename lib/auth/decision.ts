/**
 * One authorizer of the chain (kube's authorizer.Authorizer with its
 * Decision): allow, deny (no later authorizer is asked), or no opinion with
 * a reason the 403 shows when no authorizer allows. chain.ts runs them in
 * kube's union order.
 */
import type { NonResourceAttributes, ResourceAttributes, SubjectRules, UserInfo } from '../api/request.js';

export type Decision = { decision: 'allow' } | { decision: 'deny' | 'no-opinion'; reason: string };

export const ALLOW: Decision = { decision: 'allow' };
export const deny = (reason: string): Decision => ({ decision: 'deny', reason });
export const noOpinion = (reason = ''): Decision => ({ decision: 'no-opinion', reason });

export interface AuthorizerStep {
  authorize(user: UserInfo, attrs: ResourceAttributes): Promise<Decision>;
  authorizeNonResource(user: UserInfo, attrs: NonResourceAttributes): Promise<Decision>;
  /** What the step allows `user` in `namespace` (SelfSubjectRulesReview); a step without it adds nothing. */
  rulesFor?(user: UserInfo, namespace: string): Promise<SubjectRules>;
}
