/**
 * A Store that stamps the token records it writes with their MAC
 * (token-mac.ts), as the server's own field: whatever a client sent in
 * `data.tokenMac` is replaced (or dropped). Every record created is stamped,
 * and so is an update that changes the hash; an update of a record stored
 * before MACs existed leaves it without one, so the `<id>.<secret>` token its
 * holder has keeps working. The create answer carries the MAC, so `kumo token
 * create` and `kumo token enroll` can hand out the whole token, and no
 * client, however privileged, can choose a MAC.
 *
 * It wraps the store the API server writes through (above any encryption,
 * so it sees the record in the clear); every other object and every read
 * passes untouched.
 */
import type { KObject, ObjectKey } from '../api/object.js';
import type { CasResult, Store } from '../store/types.js';
import { PassThroughStore } from '../store/pass-through.js';
import type { TokenMac } from './token-mac.js';
import { TOKEN_MAC_FIELD, TOKEN_NAMESPACE, TOKEN_SECRET_PREFIX, TOKEN_SECRET_TYPE } from './tokens.js';
import { SECRETS } from '../kinds/resources.js';
import { storeResource } from '../api/store-key.js';

const HASH = /^[0-9a-f]{64}$/;

function dataOf(obj: KObject): Record<string, string> {
  return ((obj as { data?: Record<string, string> | null }).data ?? {}) as Record<string, string>;
}

export class TokenStampingStore extends PassThroughStore {
  constructor(
    inner: Store,
    private readonly mac: TokenMac,
  ) {
    super(inner);
  }

  /**
   * The object to store: a token record with its MAC (or, when `prev` is a
   * record without one and the hash stays, still without), anything else as
   * it is. Never mutates `obj`.
   */
  private stamp(key: ObjectKey, obj: KObject, prev?: KObject): KObject {
    if (key.resource !== storeResource(SECRETS) || key.namespace !== TOKEN_NAMESPACE || !key.name.startsWith(TOKEN_SECRET_PREFIX)) return obj;
    if ((obj as { type?: unknown }).type !== TOKEN_SECRET_TYPE) return obj;
    const { [TOKEN_MAC_FIELD]: _client, ...data } = dataOf(obj);
    const before = prev ? dataOf(prev) : undefined;
    const legacy = before !== undefined && before[TOKEN_MAC_FIELD] === undefined && before.tokenHash === data.tokenHash;
    const hash = Buffer.from(data.tokenHash ?? '', 'base64').toString('utf8');
    if (!legacy && HASH.test(hash))
      data[TOKEN_MAC_FIELD] = Buffer.from(this.mac.sign(key.name.slice(TOKEN_SECRET_PREFIX.length), hash), 'utf8').toString('base64');
    return { ...obj, data } as KObject;
  }

  override create(key: ObjectKey, obj: KObject): Promise<KObject> {
    return this.inner.create(key, this.stamp(key, obj));
  }

  override update(key: ObjectKey, obj: KObject, prev: KObject): Promise<CasResult> {
    return this.inner.update(key, this.stamp(key, obj, prev), prev);
  }
}
