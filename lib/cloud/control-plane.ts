/**
 * What a controller or scheduler function runs on: the store from the
 * environment, an in-process API server over it (so every write the
 * controllers make is validated and admitted like a user's), and a client
 * that calls it directly. Built once per Lambda container.
 */
import { ApiServer } from '../apiserver/server.js';
import type { UserInfo } from '../api/request.js';
import { KubeClient } from '../client/client.js';
import type { KindRegistry } from '../kinds/index.js';
import { InProcessTransport } from '../client/transport.js';
import type { Env } from '../config/read.js';
import { defaultLogger, type Logger } from '../log/logger.js';
import type { Store } from '../store/types.js';
import { admissionFromEnv } from './config.js';
import { storeFromEnv } from './store-from-env.js';

export const CONTROLLER_USER: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:masters', 'system:authenticated'] };
export const SCHEDULER_USER: UserInfo = { name: 'system:kube-scheduler', groups: ['system:masters', 'system:authenticated'] };

export async function inProcessClient(user: UserInfo, env: Env = process.env, logger: Logger = defaultLogger()): Promise<KubeClient> {
  return (await inProcessApi(user, env, logger)).client;
}

/**
 * The client and the store under it (the scheduled resync also compacts the
 * store's change log), and the kinds the in-process API server serves with
 * what brings them up to date with the stored CRDs (controllers follow
 * custom resources through them).
 */
export async function inProcessApi(
  user: UserInfo,
  env: Env = process.env,
  logger: Logger = defaultLogger(),
): Promise<{ client: KubeClient; store: Store; kinds: KindRegistry; syncKinds: (now?: boolean) => Promise<void> }> {
  const store = await storeFromEnv(env);
  const api = new ApiServer({ store, admission: admissionFromEnv(env), logger });
  return { client: new KubeClient(new InProcessTransport(api, user)), store, kinds: api.kinds, syncKinds: (now) => api.syncCustomResources(now) };
}
