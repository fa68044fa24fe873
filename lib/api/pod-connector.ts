/**
 * How the API server reaches the pods it serves logs, exec and attach for:
 * the agent implements PodConnector (lib/agent/connector.ts) and the API
 * server consumes it, so neither imports the other.
 */
import type { KObject } from './object.js';
import type { ApiResponse } from './request.js';

/** What `pods/exec` asks for, validated (lib/client/exec-channel.ts execParams). */
export interface PodExecRequest {
  container: string;
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What `pods/attach` asks for (lib/client/exec-channel.ts attachParams): exec's options without a command. */
export type PodAttachRequest = Omit<PodExecRequest, 'command'>;

/**
 * The two ends of an exec or attach: input from the client, output back to
 * it. The same on every hop (the API server toward the agent, the agent
 * toward its container runtime, `kumo exec` toward the API server).
 */
export interface ExecIO {
  stdin?: AsyncIterable<Uint8Array>;
  stdout?: (chunk: Uint8Array) => void;
  stderr?: (chunk: Uint8Array) => void;
  resize?: AsyncIterable<{ width: number; height: number }>;
  signal?: AbortSignal;
}

/** Serves pods' logs, exec and attach from the agent that runs them (lib/agent/connector.ts). */
export interface PodConnector {
  /** `query` carries the resolved `container` and the log options. */
  logs(pod: KObject, query: URLSearchParams, signal: AbortSignal | undefined): Promise<ApiResponse>;
  /** Runs the command; resolves with its exit code. */
  exec?(pod: KObject, req: PodExecRequest, io: ExecIO): Promise<number>;
  /** Joins the container's own stdio; resolves when the container ends or the client leaves. */
  attach?(pod: KObject, req: PodAttachRequest, io: ExecIO): Promise<void>;
}
