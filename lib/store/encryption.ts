/**
 * Encryption at rest for Secrets (kube-apiserver's EncryptionConfiguration,
 * as a Store wrapper): what a Secret holds — `data`, `stringData` and its
 * annotations (kubectl's last-applied-configuration copies the data there) —
 * is sealed into one envelope before the backend sees the object, and opened
 * again on every read, list and watch. Names, labels, type and
 * resourceVersion stay in the clear: the backend keys, indexes and filters
 * by them. The object's key is the authenticated data, so a sealed payload
 * cannot be moved to another object.
 *
 * Objects stored before encryption was enabled read as they are and are
 * sealed on their next write.
 *
 * Encryptors: a local AES-256-GCM key (`kumo up` keeps it in
 * <data-dir>/secrets-encryption-key); for the cloud, envelope encryption
 * with data keys from AWS KMS (KmsEnvelopeEncryptor over lib/cloud/kms-keys.ts,
 * enabled by KUMO_SECRETS_KMS_KEY; see docs/services.md).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KObject, ObjectKey } from '../api/object.js';
import type { CasResult, ListOptions, ListResult, Store, StoreEvent, WatchOptions } from './types.js';

/** Seals and opens payloads. `aad` binds a payload to its object. */
export interface Encryptor {
  encrypt(plaintext: Buffer, aad: Buffer): Promise<string>;
  decrypt(envelope: string, aad: Buffer): Promise<Buffer>;
}

/** The field a sealed object carries its envelope in. */
export const SEALED_FIELD = 'kumo.io/encrypted';
const AES_PREFIX = 'k8s:enc:aesgcm:v1:';

function aesGcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, ct, cipher.getAuthTag()]);
}

function aesGcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const iv = sealed.subarray(0, 12);
  const tag = sealed.subarray(sealed.length - 16);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
}

/** AES-256-GCM with one named key (Kubernetes' aesgcm provider). */
export class AesGcmEncryptor implements Encryptor {
  constructor(
    private readonly key: Buffer,
    private readonly keyName = 'local',
  ) {
    if (key.length !== 32) throw new Error('the secrets encryption key must be 32 bytes');
  }

  async encrypt(plaintext: Buffer, aad: Buffer): Promise<string> {
    return `${AES_PREFIX}${this.keyName}:${aesGcmSeal(this.key, plaintext, aad).toString('base64')}`;
  }

  async decrypt(envelope: string, aad: Buffer): Promise<Buffer> {
    const prefix = `${AES_PREFIX}${this.keyName}:`;
    if (!envelope.startsWith(prefix)) throw new Error(`no key for envelope ${envelope.slice(0, envelope.indexOf(':', AES_PREFIX.length) + 1)}…`);
    return aesGcmOpen(this.key, Buffer.from(envelope.slice(prefix.length), 'base64'), aad);
  }
}

/** Reads the local key file, creating it (32 random bytes, mode 0600) on first use. */
export function localKeyEncryptor(file: string): AesGcmEncryptor {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }
  chmodSync(file, 0o600);
  return new AesGcmEncryptor(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
}

/** A source of data keys: what AWS KMS's GenerateDataKey and Decrypt provide. */
export interface DataKeySource {
  /** A fresh 32-byte key, in the clear and wrapped by the master key. */
  generateDataKey(): Promise<{ plaintext: Buffer; wrapped: Buffer }>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
}

/**
 * Envelope encryption (Kubernetes' KMS v2 provider): each payload is sealed
 * with a data key; the data key, wrapped by the master key (KMS), travels in
 * the envelope. One data key is reused for `rotateMs`, and unwrapped keys are
 * cached, so KMS is called about once per rotation and per distinct key read.
 */
export class KmsEnvelopeEncryptor implements Encryptor {
  private current: { plaintext: Buffer; wrapped: Buffer; until: number } | undefined;
  private readonly unwrapped = new Map<string, Buffer>();

  constructor(
    private readonly source: DataKeySource,
    private readonly rotateMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  async encrypt(plaintext: Buffer, aad: Buffer): Promise<string> {
    if (!this.current || this.current.until <= this.now()) {
      const k = await this.source.generateDataKey();
      this.current = { ...k, until: this.now() + this.rotateMs };
      this.unwrapped.set(k.wrapped.toString('base64'), k.plaintext);
    }
    return `k8s:enc:kms:v2:${this.current.wrapped.toString('base64')}:${aesGcmSeal(this.current.plaintext, plaintext, aad).toString('base64')}`;
  }

  async decrypt(envelope: string, aad: Buffer): Promise<Buffer> {
    const m = /^k8s:enc:kms:v2:([^:]+):(.+)$/.exec(envelope);
    if (!m) throw new Error('not a KMS envelope');
    let key = this.unwrapped.get(m[1]!);
    if (!key) {
      key = await this.source.unwrap(Buffer.from(m[1]!, 'base64'));
      this.unwrapped.set(m[1]!, key);
    }
    return aesGcmOpen(key, Buffer.from(m[2]!, 'base64'), aad);
  }
}

interface Sealable extends KObject {
  data?: unknown;
  stringData?: unknown;
  [SEALED_FIELD]?: string;
}

function aadOf(key: ObjectKey): Buffer {
  return Buffer.from(`/${key.resource}/${key.namespace}/${key.name}`);
}

function keyOf(resource: string, obj: KObject): ObjectKey {
  return { resource, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
}

/** A Store that seals the contents of the given resources (by default Secrets). */
export class EncryptingStore implements Store {
  private readonly resources: Set<string>;

  constructor(
    private readonly inner: Store,
    private readonly encryptor: Encryptor,
    resources: readonly string[] = ['secrets'],
  ) {
    this.resources = new Set(resources);
  }

  private async seal(key: ObjectKey, obj: KObject): Promise<KObject> {
    if (!this.resources.has(key.resource)) return obj;
    const { data, stringData, [SEALED_FIELD]: _old, ...rest } = obj as Sealable;
    const annotations = obj.metadata.annotations;
    const payload = { data, stringData, annotations };
    const envelope = await this.encryptor.encrypt(Buffer.from(JSON.stringify(payload)), aadOf(key));
    const { annotations: _a, ...meta } = obj.metadata;
    return { ...rest, metadata: meta, [SEALED_FIELD]: envelope } as KObject;
  }

  private async open(resource: string, obj: KObject): Promise<KObject>;
  private async open(resource: string, obj: KObject | undefined): Promise<KObject | undefined>;
  private async open(resource: string, obj: KObject | undefined): Promise<KObject | undefined> {
    if (!obj || !this.resources.has(resource)) return obj;
    const envelope = (obj as Sealable)[SEALED_FIELD];
    if (typeof envelope !== 'string') return obj;
    const plain = JSON.parse((await this.encryptor.decrypt(envelope, aadOf(keyOf(resource, obj)))).toString('utf8')) as {
      data?: unknown;
      stringData?: unknown;
      annotations?: Record<string, string>;
    };
    const { [SEALED_FIELD]: _e, ...rest } = obj as Sealable;
    const out = { ...rest, metadata: { ...obj.metadata } } as Sealable;
    if (plain.annotations) out.metadata.annotations = plain.annotations;
    if (plain.data !== undefined) out.data = plain.data;
    if (plain.stringData !== undefined) out.stringData = plain.stringData;
    return out;
  }

  private async openResult(resource: string, res: CasResult): Promise<CasResult> {
    return res.ok ? { ok: true, object: await this.open(resource, res.object) } : { ok: false, current: await this.open(resource, res.current) };
  }

  async create(key: ObjectKey, obj: KObject): Promise<KObject> {
    const stored = await this.inner.create(key, await this.seal(key, obj));
    return this.open(key.resource, stored);
  }

  async get(key: ObjectKey): Promise<KObject | undefined> {
    return this.open(key.resource, await this.inner.get(key));
  }

  async update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.openResult(key.resource, await this.inner.update(key, await this.seal(key, obj), await this.seal(key, prev)));
  }

  async delete(key: ObjectKey, prev: KObject): Promise<CasResult> {
    return this.openResult(key.resource, await this.inner.delete(key, await this.seal(key, prev)));
  }

  async list(resource: string, opts?: ListOptions): Promise<ListResult> {
    // Predicates see the sealed object: only names, labels, type and the like are in the clear (field selectors use only those).
    const res = await this.inner.list(resource, opts);
    if (!this.resources.has(resource)) return res;
    return { ...res, items: await Promise.all(res.items.map((o) => this.open(resource, o))) };
  }

  currentRevision(resource: string): Promise<number> {
    return this.inner.currentRevision(resource);
  }

  async *watch(resource: string, opts: WatchOptions): AsyncIterable<StoreEvent> {
    for await (const e of this.inner.watch(resource, opts)) {
      if (!this.resources.has(resource)) {
        yield e;
        continue;
      }
      yield { ...e, object: await this.open(resource, e.object), ...(e.prev ? { prev: await this.open(resource, e.prev) } : {}) };
    }
  }

  compact(): Promise<void> {
    return this.inner.compact();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
