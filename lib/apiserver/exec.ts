/**
 * `kubectl exec` and `kubectl attach` on the Node HTTP front door: the
 * WebSocket upgrade of `GET .../pods/{name}/exec|attach`
 * (`v5.channel.k8s.io`), checked by the API server core, then bridged to
 * the agent that runs the pod through the PodConnector. A refused request
 * is answered with a Status before any upgrade, as kube-apiserver does.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { attachParams, execParams, execSocketServer, offersExecProtocol, serveExec } from '../client/exec-channel.js';
import { StatusError } from '../api/errors.js';
import { refuseUpgrade, toApiRequest, type UpgradeHandler } from './http.js';
import type { ExecIO } from '../api/pod-connector.js';
import type { ApiServer } from './server.js';

function refuse(socket: Duplex, err: unknown): void {
  refuseUpgrade(socket, err instanceof StatusError ? err : StatusError.internal((err as Error).message));
}

/** The upgrade hook for createApiHttpServer: takes exec and attach requests, leaves every other upgrade alone. */
export function execUpgradeHandler(api: ApiServer): UpgradeHandler {
  const wss = execSocketServer();
  return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!/\/pods\/[^/]+\/(exec|attach)$/.test(path)) return false;
    void (async () => {
      try {
        if (!offersExecProtocol(req)) throw StatusError.badRequest('exec and attach need the v5.channel.k8s.io or v4.channel.k8s.io WebSocket protocol');
        const abort = new AbortController();
        socket.once('close', () => abort.abort());
        const apiReq = toApiRequest(req, undefined, abort.signal);
        const { pod, subresource, container, connector } = await api.streamTarget(apiReq);
        if (subresource === 'exec') {
          const exec = execParams(apiReq.query, container);
          wss.handleUpgrade(req, socket, head, (ws) => void serveExec(ws, exec, (io) => connector.exec!(pod, exec, io)));
        } else {
          const attach = attachParams(apiReq.query, container);
          // An attach ends when the container does (or the client leaves): a Success status, as the kubelet's.
          const run = async (io: ExecIO) => {
            await connector.attach!(pod, attach, io);
            return 0;
          };
          wss.handleUpgrade(req, socket, head, (ws) => void serveExec(ws, attach, run));
        }
      } catch (err) {
        refuse(socket, err);
      }
    })();
    return true;
  };
}
