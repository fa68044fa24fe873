/**
 * How the API server reaches the agent that runs a pod, for `pods/log`,
 * `pods/exec` and `pods/attach` (kube-apiserver → kubelet :10250): agents in
 * the same process (`kumo up`) are called directly; others through their
 * endpoint, found from the Node (InternalIP,
 * status.daemonEndpoints.kubeletEndpoint.Port) and called with the shared
 * bearer token.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Node } from '../api/core/v1/node.js';
import type { Pod } from '../api/core/v1/pod.js';
import type { KObject } from '../api/object.js';
import { StatusError } from '../api/errors.js';
import type { ExecIO, PodAttachRequest, PodConnector, PodExecRequest } from '../api/pod-connector.js';
import type { ApiResponse } from '../api/request.js';
import type { Agent } from './agent.js';
import { execOverWebSocket, execQuery } from '../client/exec-channel.js';
import { logRequest } from './server.js';

export interface AgentConnectorOptions {
  /** Agents running in this process, by node name. */
  local?: ReadonlyMap<string, Agent>;
  /** Reads a Node, to find a remote agent's endpoint. */
  getNode: (name: string) => Promise<(Node & KObject) | undefined>;
  /** The bearer token agents accept. */
  token?: string;
  /** Agents serve TLS. @default false */
  https?: boolean;
  /** CA for agents' certificates; or skip verification. */
  ca?: string | Buffer;
  insecureSkipTLSVerify?: boolean;
}

type P = Pod & KObject;

export class AgentConnector implements PodConnector {
  constructor(private readonly opts: AgentConnectorOptions) {}

  private nodeOf(pod: KObject): string {
    const node = (pod as P).spec?.nodeName;
    if (!node) throw StatusError.badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    return node;
  }

  private async endpoint(nodeName: string): Promise<string> {
    const node = await this.opts.getNode(nodeName);
    if (!node) throw StatusError.badRequest(`node "${nodeName}" not found`);
    const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!ip || !port)
      throw StatusError.badRequest(`the agent of node "${nodeName}" serves no logs or exec endpoint (a simulated node, or an agent without --port)`);
    const host = ip.includes(':') ? `[${ip}]` : ip;
    return `${this.opts.https ? 'https' : 'http'}://${host}:${port}`;
  }

  async logs(pod: KObject, query: URLSearchParams, signal: AbortSignal | undefined): Promise<ApiResponse> {
    const nodeName = this.nodeOf(pod);
    const container = query.get('container') ?? '';
    const local = this.opts.local?.get(nodeName);
    if (local) {
      const chunks = await local.openLogs(pod.metadata.namespace ?? 'default', pod.metadata.name!, container, logRequest(query), signal);
      return { status: 200, headers: { 'content-type': 'text/plain' }, bytes: chunks };
    }
    const base = await this.endpoint(nodeName);
    const q = new URLSearchParams(query);
    q.delete('container');
    const url = `${base}/containerLogs/${encodeURIComponent(pod.metadata.namespace ?? 'default')}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(container)}?${q}`;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const fn = url.startsWith('https:') ? httpsRequest : httpRequest;
      const req = fn(
        url,
        {
          method: 'GET',
          headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
          ...(signal ? { signal } : {}),
          ...(this.opts.ca ? { ca: this.opts.ca } : {}),
          ...(this.opts.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
        },
        resolve,
      );
      req.on('error', (err) => reject(StatusError.internal(`cannot reach the agent of node "${nodeName}": ${err.message}`)));
      req.end();
    });
    if (res.statusCode !== 200) {
      let text = '';
      for await (const c of res) text += (c as Buffer).toString('utf8');
      try {
        return { status: res.statusCode ?? 500, headers: { 'content-type': 'application/json' }, body: JSON.parse(text) };
      } catch {
        throw StatusError.internal(`the agent of node "${nodeName}" answered ${res.statusCode}: ${text.slice(0, 200)}`);
      }
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/plain' },
      bytes: (async function* () {
        try {
          for await (const c of res) yield c as Uint8Array;
        } catch (err) {
          if (!signal?.aborted) throw err;
        }
      })(),
    };
  }

  async exec(pod: KObject, req: PodExecRequest, io: ExecIO): Promise<number> {
    const local = this.opts.local?.get(this.nodeOf(pod));
    if (local) return local.exec(pod.metadata.namespace ?? 'default', pod.metadata.name!, req.container, req.command, { stdin: req.stdin, tty: req.tty }, io);
    return this.stream('exec', pod, req, io);
  }

  async attach(pod: KObject, req: PodAttachRequest, io: ExecIO): Promise<void> {
    const local = this.opts.local?.get(this.nodeOf(pod));
    if (local) return local.attach(pod.metadata.namespace ?? 'default', pod.metadata.name!, req.container, { stdin: req.stdin }, io);
    await this.stream('attach', pod, req, io);
  }

  /** An exec or attach on a remote agent's endpoint, over the same WebSocket protocol. */
  private async stream(kind: 'exec' | 'attach', pod: KObject, req: PodAttachRequest & { command?: string[] }, io: ExecIO): Promise<number> {
    const ns = pod.metadata.namespace ?? 'default';
    const base = (await this.endpoint(this.nodeOf(pod))).replace(/^http/, 'ws');
    const url = `${base}/${kind}/${encodeURIComponent(ns)}/${encodeURIComponent(pod.metadata.name!)}/${encodeURIComponent(req.container)}?${execQuery(req)}`;
    return execOverWebSocket(
      url,
      {
        headers: this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {},
        ...(this.opts.ca ? { ca: this.opts.ca } : {}),
        ...(this.opts.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
      },
      io,
    );
  }
}
