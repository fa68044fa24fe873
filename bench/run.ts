/**
 * `npm run bench [-- --quick] [-- --only a,b] [-- --list]`: runs the
 * benchmark scenarios, writes their results as JSON under bench/results/ and
 * the Markdown report with SVG charts (bench/REPORT.md for full runs,
 * bench/REPORT-quick.md for --quick). A run of some scenarios (--only)
 * replaces theirs in the latest results of its mode and leaves the others, so
 * the report always covers every scenario, each with the time it was
 * measured. Never part of `npm test`.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Baseline, type RunInfo, writeReport } from './lib/report.js';
import type { Scenario, ScenarioResult } from './lib/types.js';
import { apiLatency } from './scenarios/api-latency.js';
import { authz } from './scenarios/authz.js';
import { cost } from './scenarios/cost.js';
import { crd } from './scenarios/crd.js';
import { daemonSetRollout } from './scenarios/daemonset.js';
import { ecsReplacement } from './scenarios/ecs-replacement.js';
import { podStartup } from './scenarios/pod-startup.js';
import { scale } from './scenarios/scale.js';
import { schedulerThroughput } from './scenarios/scheduler.js';
import { statefulSetThroughput } from './scenarios/statefulset.js';

const SCENARIOS: Scenario[] = [schedulerThroughput, podStartup, apiLatency, scale, cost, ecsReplacement, crd, statefulSetThroughput, daemonSetRollout, authz];

interface Stored {
  info: RunInfo;
  scenarios: ScenarioResult[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      list: { type: 'boolean', default: false },
      results: { type: 'string', default: 'bench/results' },
      report: { type: 'string' },
      baseline: { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npm run bench -- [--quick] [--only name,...] [--list] [--results dir] [--report file.md] [--baseline file.json ...]');
    return;
  }
  if (values.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(12)} ${s.title} (quick ~${s.estimate.quick}, full ~${s.estimate.full})`);
    return;
  }
  const mode = values.quick ? 'quick' : 'full';
  const names = values.only ? values.only.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario(s): ${unknown.join(', ')} (try --list)`);

  const resultsDir = values.results!;
  mkdirSync(resultsDir, { recursive: true });
  const latestPath = join(resultsDir, `latest-${mode}.json`);
  const stored: Stored | undefined = existsSync(latestPath) ? (JSON.parse(readFileSync(latestPath, 'utf8')) as Stored) : undefined;
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    loadAverage: loadavg(),
  };
  const started = Date.now();
  const ran: ScenarioResult[] = [];
  const runs: RunInfo['runs'] = [];
  for (const name of names) {
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    const workDir = mkdtempSync(join(tmpdir(), `kumo-bench-${name}-`));
    const t0 = Date.now();
    const log = (line: string) => console.log(`[${name} ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
    log(`${scenario.title} (${mode})`);
    let result: ScenarioResult;
    try {
      const out = await scenario.run({ quick: values.quick!, workDir, log });
      result = { name, title: scenario.title, durationMs: Date.now() - t0, ...out };
    } catch (err) {
      log(`FAILED: ${(err as Error).stack ?? String(err)}`);
      result = {
        name,
        title: scenario.title,
        durationMs: Date.now() - t0,
        method: '',
        figures: [],
        tables: [],
        charts: [],
        notes: [],
        skipped: `the scenario failed: ${(err as Error).message}`,
      };
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
    log(`done in ${(result.durationMs / 1000).toFixed(1)} s`);
    ran.push(result);
    runs.push({ scenario: name, startedAt: new Date(t0).toISOString(), durationMs: result.durationMs });
  }

  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const run: Stored = { info: { mode, machine, runs }, scenarios: ran };
  writeFileSync(join(resultsDir, `${stamp}-${mode}.json`), `${JSON.stringify(run, null, 1)}\n`);

  // Merge into the latest results of this mode: scenarios not run keep their last figures.
  const merged: Stored = {
    info: { mode, machine, runs: [...(stored?.info.runs ?? []).filter((r) => !names.includes(r.scenario)), ...runs] },
    scenarios: [...(stored?.scenarios ?? []).filter((s) => !names.includes(s.name)), ...ran],
  };
  const order = (n: string) => SCENARIOS.findIndex((s) => s.name === n);
  merged.scenarios.sort((a, b) => order(a.name) - order(b.name));
  merged.info.runs.sort((a, b) => order(a.scenario) - order(b.scenario));
  writeFileSync(latestPath, `${JSON.stringify(merged, null, 1)}\n`);

  const baselines: Baseline[] = (values.baseline ?? (existsSync(join(resultsDir, 'before.json')) ? [join(resultsDir, 'before.json')] : [])).map(
    (file) => JSON.parse(readFileSync(file, 'utf8')) as Baseline,
  );
  const reportPath = values.report ?? (mode === 'quick' ? 'bench/REPORT-quick.md' : 'bench/REPORT.md');
  writeReport(reportPath, merged.info, merged.scenarios, baselines);
  console.log(`\nbench: ${ran.length} scenario(s) in ${((Date.now() - started) / 1000).toFixed(0)} s; results in ${resultsDir}/, report in ${reportPath}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench: ${(err as Error).message}`);
    process.exit(1);
  },
);
