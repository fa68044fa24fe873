/**
 * The one config schema (lib/config/settings.ts): the stack sets exactly the
 * `KUMO_*` variables declared as the stack's, and declares every variable it
 * sets; each setting is declared once with a default it can parse; bad
 * values are one error naming the variable or the flag; docs/configuration.md
 * holds the schema's table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { KumoStack } from '../../cdk/kumo-stack.js';
import { memoryIO } from '#lib/cli/io';
import { main } from '#lib/cli/main';
import { runNodeAgent } from '#lib/cli/node-agent';
import { cloudProviderFromEnv } from '#lib/cloudprovider/config';
import { ConfigError, parseFlag, readSetting } from '#lib/config/read';
import { type Setting, SETTINGS } from '#lib/config/settings';
import { settingsTable, TABLE_END, TABLE_START } from './settings-table.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ALL: Setting[] = Object.values(SETTINGS);

/** Every variable name the stack gives a function or the agent container, with every option that adds one turned on. */
function namesTheStackSets(): Set<string> {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KumoStack(app, 'Kumo', { secretsEncryption: true, podLogs: true, nodeAutoscaling: false, cadence: 'economy', controlLoopMetrics: true });
  const resources = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
  const names = new Set<string>();
  for (const r of resources) {
    if (r.Type === 'AWS::Lambda::Function') {
      for (const name of Object.keys((r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {})) names.add(name);
    }
    if (r.Type === 'AWS::ECS::TaskDefinition') {
      for (const c of r.Properties.ContainerDefinitions as { Environment?: { Name: string }[]; Secrets?: { Name: string }[] }[]) {
        for (const e of [...(c.Environment ?? []), ...(c.Secrets ?? [])]) names.add(e.Name);
      }
    }
  }
  return names;
}

describe('the schema and the stack', () => {
  const set = namesTheStackSets();

  it('the stack sets every KUMO_* variable declared as set by the stack, and no other', () => {
    const declared = ALL.filter((s) => s.env.startsWith('KUMO_') && s.setBy === 'stack').map((s) => s.env);
    expect([...set].filter((n) => n.startsWith('KUMO_')).sort()).toEqual(declared.sort());
  });

  it("declares every variable the stack sets (CDK's and AWS's own aside)", () => {
    const declared = new Set(ALL.map((s) => s.env));
    // The Lambda construct's own variables are for the runtime, not for kumo.
    const kumo = [...set].filter((n) => !n.startsWith('AWS_') && n !== 'NODE_OPTIONS');
    expect(kumo.filter((n) => !declared.has(n))).toEqual([]);
    expect(kumo.length).toBeGreaterThan(20);
  });
});

describe('each setting', () => {
  it('is declared once, under a name of its own, and its default (if any) parses', () => {
    const names = ALL.map((s) => s.env);
    expect(new Set(names).size).toBe(names.length);
    for (const s of ALL) {
      expect(s.doc.length, s.env).toBeGreaterThan(10);
      if (s.default !== undefined) expect(() => readSetting({}, s), s.env).not.toThrow();
    }
  });

  it('is read in the unit the code uses: every time in milliseconds', () => {
    expect(readSetting({ KUMO_NODE_GRACE_SECONDS: '240' }, SETTINGS.nodeGrace)).toBe(240_000);
    expect(readSetting({ KUMO_JOB_BACKOFF_MS: '50' }, SETTINGS.jobBackoff)).toBe(50);
    expect(readSetting({ KUMO_LEASE_DURATION: '4m' }, SETTINGS.leaseDuration)).toBe(240_000);
    expect(readSetting({}, SETTINGS.watchPoll)).toBe(10_000);
    expect(readSetting({ KUMO_WATCH_POLL_SECONDS: '' }, SETTINGS.watchPoll)).toBe(10_000);
    expect(readSetting({ LOG_LEVEL: 'debug' }, SETTINGS.logLevel)).toBe('DEBUG');
  });
});

describe('a bad value', () => {
  const cases: [Setting, string, string][] = [
    // The poll window used to fall back to 10 s without a word; autoscaling took anything but "false" for on.
    [SETTINGS.watchPoll, 'ten', 'KUMO_WATCH_POLL_SECONDS must be a positive number of seconds, got "ten"'],
    [SETTINGS.watchPoll, '0', 'KUMO_WATCH_POLL_SECONDS must be a positive number of seconds, got "0"'],
    [SETTINGS.nodeAutoscaling, 'off', 'KUMO_NODE_AUTOSCALING must be true or false, got "off"'],
    [SETTINGS.flowBurst, '-5', 'KUMO_FLOW_BURST_MS must be a non-negative number of milliseconds, got "-5"'],
    [SETTINGS.auth, 'open', 'KUMO_AUTH must be tokens or none, got "open"'],
    [SETTINGS.runtime, 'podman', 'KUMO_RUNTIME must be docker, process or fake, got "podman"'],
    [SETTINGS.agentPort, '70000', 'KUMO_AGENT_PORT must be a port from 0 to 65535, got "70000"'],
    [SETTINGS.leaseRenewInterval, '100ms', 'KUMO_LEASE_RENEW_INTERVAL must be at least 1s, got "100ms"'],
    [SETTINGS.logLevel, 'loud', 'LOG_LEVEL must be TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT, got "loud"'],
    [SETTINGS.clusterDns, '169.254.20', 'KUMO_CLUSTER_DNS must be an IPv4 address or none, got "169.254.20"'],
  ];
  it.each(cases.map(([s, value, message]) => [s.env, s, value, message] as const))(
    'of %s is one error naming the variable',
    (_name, setting, value, message) => {
      expect(() => readSetting({ [setting.env]: value }, setting)).toThrow(new ConfigError(message));
    },
  );

  it('of a flag names the flag, parsed as its variable is', () => {
    expect(() => parseFlag(SETTINGS.pollInterval.flag, SETTINGS.pollInterval.type, 'soon')).toThrow(
      'invalid --poll-interval: soon (a duration such as 10s or 5m)',
    );
    expect(parseFlag(SETTINGS.pollInterval.flag, SETTINGS.pollInterval.type, '0')).toBe(0);
  });

  it('stops the API function before it serves anything', async () => {
    vi.resetModules();
    vi.stubEnv('KUMO_SQLITE_PATH', ':memory:');
    vi.stubEnv('KUMO_WATCH_POLL_SECONDS', 'ten');
    try {
      await expect(import('../../functions/api.js')).rejects.toThrow('KUMO_WATCH_POLL_SECONDS must be a positive number of seconds, got "ten"');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('stops the controllers function reading the cloud provider, before any client is made', () => {
    expect(() => cloudProviderFromEnv({ KUMO_NODE_GROUP: 'g', KUMO_NODE_AUTOSCALING: 'no' })).toThrow('KUMO_NODE_AUTOSCALING must be true or false, got "no"');
  });

  it('stops the node agent container in one line, before it enrolls or asks ECS anything', async () => {
    const io = memoryIO('', { KUMO_SERVER: 'https://127.0.0.1:1', KUMO_RUNTIME: 'podman', KUMO_BOOTSTRAP_TOKEN: 'x' });
    expect(await runNodeAgent(io)).toBe(1);
    expect(io).toMatchObject({ stdout: '', stderr: 'kumo node agent: KUMO_RUNTIME must be docker, process or fake, got "podman"\n' });
  });

  it('of --log-level stops kumo up and kumo agent with one line, starting nothing', async () => {
    for (const command of ['up', 'agent']) {
      const io = memoryIO();
      expect(await main([command, '--log-level', 'loud', '--port', '0', '--data-dir', '/nonexistent/kumo-test'], io)).toBe(1);
      expect(io).toMatchObject({ stdout: '', stderr: 'error: invalid --log-level: loud (TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL or SILENT)\n' });
    }
  });

  it('of --cluster-dns stops kumo up and kumo agent with one line, starting nothing; none turns the server off', async () => {
    for (const command of ['up', 'agent']) {
      const io = memoryIO();
      expect(await main([command, '--cluster-dns', 'fd00::10', '--port', '0', '--data-dir', '/nonexistent/kumo-test'], io)).toBe(1);
      expect(io).toMatchObject({ stdout: '', stderr: 'error: invalid --cluster-dns: fd00::10 (an IPv4 address or none)\n' });
    }
    expect(readSetting({ KUMO_CLUSTER_DNS: 'none' }, SETTINGS.clusterDns)).toBe(false);
    expect(readSetting({}, SETTINGS.clusterDns)).toBe('169.254.20.10');
  });

  it('of KUMO_CLUSTER_DNS stops the node agent container in one line', async () => {
    const io = memoryIO('', { KUMO_SERVER: 'https://127.0.0.1:1', KUMO_CLUSTER_DNS: 'nameserver', KUMO_BOOTSTRAP_TOKEN: 'x' });
    expect(await runNodeAgent(io)).toBe(1);
    expect(io).toMatchObject({ stdout: '', stderr: 'kumo node agent: KUMO_CLUSTER_DNS must be an IPv4 address or none, got "nameserver"\n' });
  });
});

describe('docs/configuration.md', () => {
  it("holds the schema's table", () => {
    const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const start = page.indexOf(TABLE_START);
    const end = page.indexOf(TABLE_END);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(page.slice(start + TABLE_START.length, end).trim()).toBe(settingsTable());
  });
});
