/**
 * Bearer tokens: their format, how they are stored, and what they grant.
 *
 * A token is `<id>.<secret>.<mac>` (tokens issued before the MAC existed,
 * and the Secrets Manager tokens, are `<id>.<secret>`). The id names its
 * record; the secret is only ever stored as its SHA-256 hash (the secret has
 * 256 bits of entropy, so a fast hash is enough: there is nothing to
 * brute-force); the MAC (token-mac.ts) lets the API server refuse tokens it
 * never issued without reading the store. Records are
 * Kubernetes Secrets of type `kumo.dev/token` named `kumo-token-<id>` in the
 * `kumo-system` namespace (the shape of Kubernetes' bootstrap tokens, which
 * are Secrets in kube-system), so they live in whatever store the API server
 * runs on, with no table of their own, and only cluster admins can touch them
 * (lib/auth/authorizer.ts).
 *
 * Two ids are reserved for tokens held outside the store (the deploy-time
 * admin token and the node pool's bootstrap token, both in Secrets Manager):
 * `admin` and `bootstrap`. Node tokens have the id `node-<node name>`, so a
 * node has at most one: enrolling a node that already has a token fails with
 * AlreadyExists instead of handing its identity to someone else.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { KObject } from '../api/object.js';

export const TOKEN_NAMESPACE = 'kumo-system';
export const TOKEN_SECRET_TYPE = 'kumo.dev/token';
export const TOKEN_SECRET_PREFIX = 'kumo-token-';
/** Label on token records: the role, for `kumo token list` and label selectors. */
export const ROLE_LABEL = 'kumo.dev/token-role';

/**
 * `user`: a named user (and groups) that RBAC alone authorizes (`kumo token
 * create --user`). `admin` and `view`: `kumo token create --role` writes
 * them `bound`, with an RBAC binding beside them that grants what the role
 * says; records stored before RBAC are not bound, and their grant is read as
 * an implicit binding (lib/auth/users.ts).
 */
export const ROLES = ['admin', 'view', 'node', 'node-bootstrap', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** What a token lets its holder do. */
export const GrantSchema = z
  .object({
    role: z.enum(ROLES),
    /** admin and view: confined to this namespace. */
    namespace: z.string().min(1).optional(),
    /** node: the node it acts for. */
    node: z.string().min(1).optional(),
    /** user: the user name (default `kumo:token:<id>`). */
    user: z.string().min(1).optional(),
    /** user: groups besides system:authenticated. */
    groups: z.array(z.string().min(1)).optional(),
    /** admin and view: an RBAC binding named after the token grants the role (not the grant itself). */
    bound: z.boolean().optional(),
    /** RFC 3339; the token is refused from then on. */
    expiresAt: z.string().optional(),
    description: z.string().optional(),
  })
  .refine((g) => (g.role === 'node') === (g.node !== undefined), { message: 'a node token names its node, and only a node token does' })
  .refine((g) => g.namespace === undefined || g.role === 'admin' || g.role === 'view', { message: 'only admin and view tokens take a namespace' })
  .refine((g) => (g.user === undefined && g.groups === undefined) || g.role === 'user', { message: 'only user tokens name a user and groups' })
  .refine((g) => !g.bound || g.role === 'admin' || g.role === 'view', { message: 'only admin and view tokens are bound' })
  .refine((g) => g.expiresAt === undefined || Number.isFinite(Date.parse(g.expiresAt)), { message: 'expiresAt must be an RFC 3339 time' });

export type Grant = z.infer<typeof GrantSchema>;

/** A token as the authenticator knows it: the hash of its secret and its grant. */
export interface TokenRecord {
  id: string;
  /** SHA-256 of the secret, hex. */
  hash: string;
  grant: Grant;
  /** The MAC the server stamped into the record (absent on records stored before MACs existed). */
  mac?: string;
}

/** The data key of a token record that holds its MAC (written by the server, never by clients). */
export const TOKEN_MAC_FIELD = 'tokenMac';

export class TokenFormatError extends Error {
  override name = 'TokenFormatError';
}

const ID = /^[a-z0-9]([-a-z0-9.]{0,200}[a-z0-9])?$/;
const SECRET = /^[A-Za-z0-9_-]{32,128}$/;
/** 22 base64url characters (token-mac.ts MAC_LENGTH): shorter than any secret, so the two forms never read alike. */
const MAC = /^[A-Za-z0-9_-]{22}$/;

/**
 * Splits `<id>.<secret>.<mac>` or `<id>.<secret>` from the right (node ids
 * may contain dots; secrets and MACs never do). A last part of exactly 22
 * characters is a MAC: a secret has at least 32.
 */
export function parseToken(token: string): { id: string; secret: string; mac?: string } | undefined {
  const cut = token.lastIndexOf('.');
  if (cut <= 0) return undefined;
  const last = token.slice(cut + 1);
  if (MAC.test(last)) {
    const inner = parseToken(token.slice(0, cut));
    return inner && inner.mac === undefined ? { ...inner, mac: last } : undefined;
  }
  const id = token.slice(0, cut);
  return ID.test(id) && SECRET.test(last) ? { id, secret: last } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(secret: string, hash: string): boolean {
  const given = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(hash, 'hex');
  return given.length === stored.length && timingSafeEqual(given, stored);
}

/** A fresh random secret: 32 bytes, base64url (43 characters). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** A fresh random id for admin and view tokens: 8 characters of [a-z0-9]. */
export function newTokenId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(8);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

export function nodeTokenId(node: string): string {
  return `node-${node}`;
}

export function tokenSecretName(id: string): string {
  return `${TOKEN_SECRET_PREFIX}${id}`;
}

/** The Secret that records a token: only the hash of its secret, never the secret. */
export function tokenSecret(id: string, hash: string, grant: Grant): KObject {
  if (!ID.test(id)) throw new TokenFormatError(`invalid token id "${id}"`);
  const parsed = GrantSchema.parse(grant);
  const data: Record<string, string> = { tokenHash: hash, role: parsed.role };
  if (parsed.namespace) data.namespace = parsed.namespace;
  if (parsed.node) data.node = parsed.node;
  if (parsed.user) data.user = parsed.user;
  if (parsed.groups) data.groups = JSON.stringify(parsed.groups);
  if (parsed.bound) data.bound = 'true';
  if (parsed.expiresAt) data.expiresAt = parsed.expiresAt;
  if (parsed.description) data.description = parsed.description;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: tokenSecretName(id), namespace: TOKEN_NAMESPACE, labels: { [ROLE_LABEL]: parsed.role } },
    type: TOKEN_SECRET_TYPE,
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

/** Makes a new token for `grant`: the token to hand out once, and the Secret to store. */
export function mintToken(
  grant: Grant,
  id: string = grant.role === 'node' ? nodeTokenId(grant.node!) : newTokenId(),
): { token: string; id: string; secret: KObject } {
  const secret = newSecret();
  return { token: `${id}.${secret}`, id, secret: tokenSecret(id, hashSecret(secret), grant) };
}

/**
 * The token to hand out for a record the server stored: with the MAC the
 * server stamped into it, or as minted when the server stamps none (no MAC
 * key, e.g. an older API server).
 */
export function issuedToken(minted: { token: string }, stored: KObject): string {
  const mac = recordOfSecret(stored)?.mac;
  return mac ? `${minted.token}.${mac}` : minted.token;
}

const RecordDataSchema = z.object({
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  [TOKEN_MAC_FIELD]: z.string().regex(MAC).optional(),
  role: z.string(),
  namespace: z.string().optional(),
  node: z.string().optional(),
  user: z.string().optional(),
  /** A JSON array of strings. */
  groups: z.string().optional(),
  bound: z.literal('true').optional(),
  expiresAt: z.string().optional(),
  description: z.string().optional(),
});

/** The groups of a record, or undefined when they are not a JSON array of strings (the record is then malformed). */
function parseGroups(raw: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) && v.every((g) => typeof g === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The record a token Secret holds, or undefined when the Secret is not a
 * well-formed token record (a malformed record authenticates nobody).
 */
export function recordOfSecret(obj: KObject): TokenRecord | undefined {
  const name = obj.metadata.name ?? '';
  if ((obj as { type?: unknown }).type !== TOKEN_SECRET_TYPE || !name.startsWith(TOKEN_SECRET_PREFIX)) return undefined;
  const raw = (obj as { data?: Record<string, string> | null }).data ?? {};
  const decoded = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  const data = RecordDataSchema.safeParse(decoded);
  if (!data.success) return undefined;
  const { tokenHash, [TOKEN_MAC_FIELD]: mac, groups, bound, ...rest } = data.data;
  const parsedGroups = groups === undefined ? undefined : parseGroups(groups);
  if (groups !== undefined && parsedGroups === undefined) return undefined;
  const grant = GrantSchema.safeParse({ ...rest, ...(parsedGroups ? { groups: parsedGroups } : {}), ...(bound ? { bound: true } : {}) });
  if (!grant.success) return undefined;
  return { id: name.slice(TOKEN_SECRET_PREFIX.length), hash: tokenHash, grant: grant.data, ...(mac ? { mac } : {}) };
}

/** Whether the grant has run out at `now` (ms). */
export function expired(grant: Grant, now: number): boolean {
  return grant.expiresAt !== undefined && Date.parse(grant.expiresAt) <= now;
}

/**
 * A token kept outside the store (Secrets Manager), given in plain text at
 * start: only its hash is kept in memory.
 */
export function staticRecord(token: string, grant: Grant): TokenRecord {
  const parsed = parseToken(token);
  if (!parsed || parsed.mac !== undefined) throw new TokenFormatError('a static token must look like <id>.<secret> (secret: 32+ characters of [A-Za-z0-9_-])');
  return { id: parsed.id, hash: hashSecret(parsed.secret), grant: GrantSchema.parse(grant) };
}
