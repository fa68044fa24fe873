/**
 * The container runtime interface the agent drives (kumo's CRI): sandboxes,
 * containers, images, exec and logs. Implementations: docker (the Docker
 * Engine API, lib/agent/docker/) and process (host processes, for laptops
 * without Docker). The simulated `fake` runtime is lib/sim/fake-nodes.ts,
 * which replaces the whole agent rather than its runtime.
 *
 * Invariant: everything a runtime creates carries the labels below, so the
 * state of every pod can be rebuilt from `list()` alone. A restarted agent
 * therefore re-adopts what runs (with its restart counts) instead of starting
 * duplicates, and the agent keeps no state of its own that matters.
 */
import type { ExecIO } from '../api/pod-connector.js';

/** Labels (docker) or recorded attributes (process) on every container the agent creates. */
export const LABELS = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  restartCount: 'kumo.io/restart-count',
  node: 'kumo.io/node',
  /** The cluster (its kube-system namespace's uid): agents of other clusters on the same host leave these alone. */
  cluster: 'kumo.io/cluster',
  kind: 'kumo.io/container-kind',
  /** The pod's termination grace period, for stopping orphans whose pod object is gone. */
  grace: 'kumo.io/termination-grace-seconds',
} as const;

/** The sandbox's container name in listings (docker's `POD` in k8s_POD_... names). */
export const SANDBOX_NAME = 'POD';

/** `ephemeral`: a debug container added to a running pod (`kubectl debug`), started once and never restarted. */
export type ContainerKind = 'sandbox' | 'init' | 'sidecar' | 'app' | 'ephemeral';

export interface PodRef {
  uid: string;
  name: string;
  namespace: string;
}

export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: string;
  hostIP?: string;
}

export interface SandboxConfig {
  pod: PodRef;
  hostname: string;
  hostNetwork: boolean;
  /** hostPort mappings of all the pod's containers (published on the sandbox). */
  ports: PortMapping[];
  /** Extra /etc/hosts entries (spec.hostAliases). */
  hostAliases: { ip: string; hostnames: string[] }[];
  /** Increases each time the sandbox is recreated. */
  attempt: number;
  graceSeconds: number;
}

export interface VolumeMount {
  /** The pod volume's name. */
  volume: string;
  source:
    | { type: 'emptyDir'; medium: 'Memory' | '' }
    | { type: 'hostPath'; path: string; hostPathType: string }
    /** A host directory or file the agent prepared (configMap, secret and claim volumes, the managed /etc/hosts). */
    | { type: 'bind'; path: string };
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerConfig {
  pod: PodRef;
  name: string;
  kind: Exclude<ContainerKind, 'sandbox'>;
  restartCount: number;
  image: string;
  /** The entrypoint (Kubernetes `command`), already expanded. */
  command?: string[];
  /** Kubernetes `args`, already expanded. */
  args?: string[];
  env: [string, string][];
  workingDir?: string;
  /** Joins the host's network namespace instead of the sandbox's. */
  hostNetwork: boolean;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  mounts: VolumeMount[];
  /** CPU limit in millicores, memory limit in bytes, CPU request in millicores. */
  resources: { cpuLimitMilli?: number; memoryLimitBytes?: number; cpuRequestMilli?: number };
  graceSeconds: number;
  /** An ephemeral container's target (a running instance): it joins that container's process namespace where the runtime can. */
  targetContainerId?: string;
}

export type ContainerRunState = 'created' | 'running' | 'exited';

/** What the runtime knows about one container instance (an attempt of a pod's container). */
export interface ContainerInfo {
  id: string;
  pod: PodRef;
  /** The pod's container name, or SANDBOX_NAME. */
  name: string;
  kind: ContainerKind;
  restartCount: number;
  state: ContainerRunState;
  /** Milliseconds since the epoch; orders instances. */
  createdAt: number;
  startedAt?: string;
  finishedAt?: string;
  /** finishedAt to the millisecond (restart back-off counts from it). */
  finishedAtMs?: number;
  exitCode?: number;
  /** OOMKilled, StartError... */
  reason?: string;
  message?: string;
  image: string;
  imageID: string;
  /** The sandbox's IP (pod IP). */
  ip?: string;
  graceSeconds?: number;
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  /** Only lines newer than this (ms since the epoch). */
  sinceMs?: number;
  timestamps: boolean;
  limitBytes?: number;
}

export interface ExecOptions {
  tty: boolean;
  stdin: boolean;
  /** Kill the command after this long (probes and hooks). */
  timeoutMs?: number;
}

export interface AttachOptions {
  /** Feed the caller's input to the container's stdin (which it must have opened: `stdin: true`). */
  stdin: boolean;
}

/** A pull that failed (ErrImagePull) or was not allowed (ErrImageNeverPull). */
export class ImagePullError extends Error {
  override name = 'ImagePullError';
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull' | 'InvalidImageName',
    message: string,
  ) {
    super(message);
  }
}

/** A container that could not be created or started (the config is wrong, the command does not exist...). */
export class ContainerStartError extends Error {
  override name = 'ContainerStartError';
  constructor(
    readonly reason: 'CreateContainerError' | 'CreateContainerConfigError' | 'RunContainerError',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Disk a pod uses, in bytes, where the runtime can measure it (the
 * kubelet's pod stats): each container's writable layer and logs (its
 * latest instance), by container name, and each emptyDir volume on disk, by
 * volume name.
 */
export interface StorageUsage {
  containers: Map<string, number>;
  volumes: Map<string, number>;
}

/** A running container's resource use, as cAdvisor reports it to a kubelet. */
export interface ContainerStats {
  /** CPU time used since the container started, in nanoseconds (cumulative). */
  cpuNanoseconds: number;
  /** Its working set: resident memory less what the kernel can reclaim at once. */
  memoryBytes: number;
}

export interface Runtime {
  readonly name: 'docker' | 'process';
  /**
   * Prepares the runtime (e.g. builds the sandbox image). `clusterId` scopes
   * everything it lists and creates, so two clusters' agents with the same
   * node name on one host never see each other's containers as orphans.
   */
  init(clusterId: string): Promise<void>;
  /** `docker://20.10.24` style, for nodeInfo.containerRuntimeVersion. */
  version(): Promise<string>;
  /**
   * The directory whose filesystem holds pods' writable layers, when the
   * runtime keeps them apart from the agent's data dir (docker: the engine's
   * data root): the node's ephemeral-storage is that filesystem's size.
   */
  storageDir?(): Promise<string | undefined>;
  /** What a pod's containers and emptyDir volumes take on disk now (ephemeral-storage limits are enforced with it). */
  storageUsage?(podUid: string): Promise<StorageUsage>;
  /** Makes the image present per the pull policy; throws ImagePullError. Returns whether it pulled. */
  ensureImage(image: string, pullPolicy: string): Promise<{ pulled: boolean }>;
  createSandbox(cfg: SandboxConfig): Promise<ContainerInfo>;
  /** Creates and starts a container in the sandbox; throws ContainerStartError. */
  startContainer(cfg: ContainerConfig, sandbox: ContainerInfo): Promise<ContainerInfo>;
  /** SIGTERM (or the image's stop signal), then SIGKILL once `graceMs` has passed; resolves when it has exited. */
  stopContainer(id: string, graceMs: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Removes what a pod used besides its containers (volumes, directories). */
  removePodResources(podUid: string): Promise<void>;
  /** The containers (sandboxes included) of this node, or of one pod. */
  list(podUid?: string): Promise<ContainerInfo[]>;
  /** Runs a command in a running container; resolves with its exit code. */
  exec(id: string, command: string[], opts: ExecOptions, io: ExecIO): Promise<number>;
  /**
   * Joins a running container's own stdio (its output from now on, and its
   * stdin): resolves when the container ends or the caller aborts. A TTY is
   * the container's own (`tty: true`), where the runtime has one.
   */
  attach(id: string, opts: AttachOptions, io: ExecIO): Promise<void>;
  /** A container's output, as the kubelet serves it (with `timestamps`, each line prefixed by its RFC 3339 time). */
  logs(id: string, opts: LogOptions, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** A running container's CPU time and working set now; undefined when it is not running (or cannot be measured). */
  stats(id: string): Promise<ContainerStats | undefined>;
  close(): Promise<void>;
}
