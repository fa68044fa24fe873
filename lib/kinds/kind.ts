/**
 * A kind as one module, like a kube-apiserver registry package: what it is
 * (the data of `ResourceType`: identity, schema, subresources, what the
 * garbage collector and the authorizer need) and how it behaves (strategy,
 * table columns, describer, the objects a cluster starts with). Every piece
 * is required: a kind that prints NAME and AGE only, or that kubectl's
 * generic describer describes, says so with 'default' or 'generic', so
 * nothing falls back silently. A custom resource's kind is built from data
 * (its schema's handler as the strategy, columns from
 * additionalPrinterColumns), so every piece is a value, not a subclass.
 */
import type { Event } from '../api/core/v1/event.js';
import type { KObject } from '../api/object.js';
import type { AuthorizationScope, GarbageCollection, ResourceType, Subresource } from '../api/registry.js';
import type { Authenticator, Authorizer, UserInfo } from '../api/request.js';
import type { Printer } from '../printers/columns.js';
import type { Strategy } from './strategy.js';
import type { z } from 'zod';

/** What a describer may fetch besides its object (the CLI supplies it over the API). */
export interface DescribeContext {
  /** Milliseconds since the epoch, for ages. */
  now: number;
  /**
   * The object's Events (kubectl's searchEvents), [] when they cannot be
   * read, undefined when events are not shown. `withKind: false` leaves the
   * kind out of the search; `uid` searches that uid instead of the object's.
   */
  events(opts?: { withKind?: boolean; uid?: string }): Promise<Event[] | undefined>;
  /** Every object of a kind matching the selectors (every page); rejects as the API does. */
  list<T extends KObject>(rt: ResourceType, namespace: string | undefined, q: { labelSelector?: string; fieldSelector?: string }): Promise<T[]>;
  get<T extends KObject>(rt: ResourceType, namespace: string, name: string): Promise<T>;
}

/** kubectl describe's text for one object. */
export type Describer = (obj: KObject, ctx: DescribeContext) => Promise<string>;

/** What an unstored kind's create sees besides the decoded object (kube's request context and the server's own authenticator and authorizer). */
export interface AnswerContext {
  /** The caller, after impersonation. */
  user: UserInfo;
  /** The namespace of the URL, for a namespaced kind. */
  namespace: string | undefined;
  /** Milliseconds since the epoch, from the server's injected clock. */
  now: number;
  /** The server's authenticator; undefined when it authenticates nobody (everyone is admin). */
  authenticator: Authenticator | undefined;
  /** The server's authorizer; undefined when it allows everything (kube's AlwaysAllow). */
  authorizer: Authorizer | undefined;
  /** The audiences a token is for when a TokenReview names none (kube-apiserver's --api-audiences). */
  apiAudiences: readonly string[];
  /** The kind served for a group and plural in any version, when there is one. */
  served(group: string, resource: string): ResourceType | undefined;
}

/** An unstored kind's create: the object answered with 201, computed from the request alone. Throws a StatusError to refuse. */
export type Answer = (obj: KObject, ctx: AnswerContext) => Promise<KObject>;

export interface Kind extends ResourceType {
  strategy: Strategy;
  /** kubectl get's columns; 'default': NAME and AGE, as kubectl prints a kind it has no printer for. */
  printer: Printer | 'default';
  /** kubectl describe; 'generic': kubectl's generic describer (every field as nested labels). */
  describer: Describer | 'generic';
  /** Objects every cluster starts with (the system namespaces), created at startup if missing. */
  bootstrap: readonly KObject[];
  /** For an unstored kind (`unstored`), its create; set exactly when `unstored` is. */
  answer?: Answer;
}

/** What a kind module declares; listKind and singular follow from kind unless it says otherwise. */
export interface KindDeclaration {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  schema: z.ZodType;
  shortNames: readonly string[];
  categories: readonly string[];
  subresources: readonly Subresource[];
  garbageCollection: GarbageCollection;
  authorization: AuthorizationScope;
  deprecation?: string;
  strategy: Strategy;
  printer: Printer | 'default';
  describer: Describer | 'generic';
  bootstrap?: readonly KObject[];
  listKind?: string;
  singular?: string;
  /** For a kind without a Go type (a custom resource): see ResourceType. */
  pruneUnknown?(value: Record<string, unknown>): string[];
  openAPISchema?: Readonly<Record<string, unknown>>;
  scalePaths?: ResourceType['scalePaths'];
  selectableFields?: readonly string[];
  /** A resource served in more than one version: see ResourceType. */
  conversion?: ResourceType['conversion'];
  /** A kind whose create answers and stores nothing (TokenReview, SubjectAccessReview): the kind is `unstored`, no other verb is served. */
  answer?: Answer;
}

export function defineKind(d: KindDeclaration): Kind {
  return {
    ...d,
    listKind: d.listKind ?? `${d.kind}List`,
    singular: d.singular ?? d.kind.toLowerCase(),
    bootstrap: d.bootstrap ?? [],
    ...(d.answer ? { unstored: true as const } : {}),
  };
}
