/**
 * `kubectl exec` on the Node HTTP front door: the WebSocket upgrade of
 * `GET .../pods/{name}/exec` (`v5.channel.k8s.io`), checked by the API
 * server core, then bridged to the agent that runs the pod through the
 * PodConnector. A refused request is answered with a Status before any
 * upgrade, as kube-apiserver does.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { execParams, execSocketServer, offersExecProtocol, serveExec } from '../agent/exec-channel.js';
import { StatusError } from './errors.js';
import { refuseUpgrade, toApiRequest, type UpgradeHandler } from './http.js';
import type { ApiServer } from './server.js';

function refuse(socket: Duplex, err: unknown): void {
  refuseUpgrade(socket, err instanceof StatusError ? err : StatusError.internal((err as Error).message));
}

/** The upgrade hook for createApiHttpServer: takes exec requests, leaves every other upgrade alone. */
export function execUpgradeHandler(api: ApiServer): UpgradeHandler {
  const wss = execSocketServer();
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!/\/pods\/[^/]+\/exec$/.test(path)) return false;
    void (async () => {
      try {
        if (!offersExecProtocol(req)) throw StatusError.badRequest('exec needs the v5.channel.k8s.io or v4.channel.k8s.io WebSocket protocol');
        const abort = new AbortController();
        socket.once('close', () => abort.abort());
        const { pod, exec, connector } = await api.execTarget(toApiRequest(req, undefined, abort.signal), (q, container) => execParams(q, container));
        wss.handleUpgrade(req, socket, head, (ws) => {
          void serveExec(ws, exec, (io) => connector.exec!(pod, exec, io));
        });
      } catch (err) {
        refuse(socket, err);
      }
    })();
    return true;
  };
}
