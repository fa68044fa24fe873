/**
 * `kubectl describe` for quotas and limit ranges (kubectl v0.35's
 * describeQuota, describeLimitRange, and the namespace describer's
 * DescribeResourceQuotas and DescribeLimitRanges), quantities as
 * Quantity.String() prints them.
 */
import type { LimitRange } from '../../api/core/v1/limitrange.js';
import type { ResourceQuota } from '../../api/core/v1/resourcequota.js';
import { amount, formatAmount, parseAmount } from '../../api/quota/amounts.js';
import { LEVEL_0, LEVEL_1, type PrefixWriter, tabbed } from './writer.js';

/** kubectl's helpTextForResourceQuotaScope. */
const SCOPE_HELP: Record<string, string> = {
  Terminating: 'Matches all pods that have an active deadline. These pods have a limited lifespan on a node before being actively terminated by the system.',
  NotTerminating:
    'Matches all pods that do not have an active deadline. These pods usually include long running pods whose container command is not expected to terminate.',
  BestEffort: 'Matches all pods that do not have resource requirements set. These pods have a best effort quality of service.',
  NotBestEffort: 'Matches all pods that have at least one resource requirement set. These pods have a burstable or guaranteed quality of service.',
};

/** Quantity.String() of a stored value: 0 when absent, as written when it does not parse. */
export function shownQuantity(v: string | number | undefined): string {
  const a = v === undefined ? amount(0n) : parseAmount(v);
  return a ? formatAmount(a) : String(v);
}

/** The sorted scopes and their help lines, at `level` with kubectl's prefix for the help. */
function writeScopes(w: PrefixWriter, q: ResourceQuota, level: number, bullet: string): void {
  const scopes = [...(q.spec?.scopes ?? [])].sort();
  if (scopes.length === 0) return;
  w.write(level, `Scopes:\t${scopes.join(', ')}\n`);
  for (const s of scopes) if (SCOPE_HELP[s]) w.write(level, `${bullet}${SCOPE_HELP[s]}\n`);
}

/** kubectl's describeQuota; a used value in another format than its hard one prints in the hard one's (whole units). */
export function describeResourceQuota(q: ResourceQuota): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${q.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${q.metadata.namespace ?? ''}\n`);
    writeScopes(w, q, LEVEL_0, ' * ');
    w.write(LEVEL_0, 'Resource\tUsed\tHard\n');
    w.write(LEVEL_0, '--------\t----\t----\n');
    for (const r of Object.keys(q.status?.hard ?? {}).sort()) {
      const hard = parseAmount(q.status?.hard?.[r]);
      let used = parseAmount(q.status?.used?.[r]) ?? amount(0n, hard?.binary);
      if (hard && used.binary !== hard.binary) used = amount(((used.milli + 999n) / 1000n) * 1000n, hard.binary);
      w.write(LEVEL_0, `${r}\t${formatAmount(used)}\t${shownQuantity(q.status?.hard?.[r])}\n`);
    }
  });
}

/** kubectl's describeLimitRangeSpec: one row per item and resource, "-" where the item sets nothing. */
function describeLimitRangeSpec(w: PrefixWriter, lr: LimitRange, prefix: string): void {
  for (const item of lr.spec?.limits ?? []) {
    const lists = [item.min, item.max, item.defaultRequest, item.default, item.maxLimitRequestRatio];
    const names = new Set(lists.flatMap((l) => Object.keys(l ?? {})));
    for (const k of [...names].sort()) {
      const cells = lists.map((l) => (l?.[k] === undefined ? '-' : shownQuantity(l[k])));
      w.write(LEVEL_0, `${prefix}${item.type ?? ''}\t${k}\t${cells.join('\t')}\n`);
    }
  }
}

/** kubectl's describeLimitRange. */
export function describeLimitRange(lr: LimitRange): string {
  return tabbed((w) => {
    w.write(LEVEL_0, `Name:\t${lr.metadata.name ?? ''}\n`);
    w.write(LEVEL_0, `Namespace:\t${lr.metadata.namespace ?? ''}\n`);
    w.write(LEVEL_0, 'Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n');
    w.write(LEVEL_0, '----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
    describeLimitRangeSpec(w, lr, '');
  });
}

/** The namespace describer's DescribeResourceQuotas: each quota by name, its used and hard values. */
export function describeResourceQuotas(quotas: readonly ResourceQuota[], w: PrefixWriter): void {
  if (quotas.length === 0) {
    w.write(LEVEL_0, 'No resource quota.\n');
    return;
  }
  w.write(LEVEL_0, 'Resource Quotas\n');
  for (const q of [...quotas].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    w.write(LEVEL_1, `Name:\t${q.metadata.name ?? ''}\n`);
    writeScopes(w, q, LEVEL_1, '* ');
    w.write(LEVEL_1, 'Resource\tUsed\tHard\n');
    w.write(LEVEL_1, '--------\t---\t---\n');
    for (const r of Object.keys(q.status?.hard ?? {}).sort()) {
      w.write(LEVEL_1, `${r}\t${shownQuantity(q.status?.used?.[r])}\t${shownQuantity(q.status?.hard?.[r])}\n`);
    }
  }
}

/** The namespace describer's DescribeLimitRanges: every item of every LimitRange in one table. */
export function describeLimitRanges(ranges: readonly LimitRange[], w: PrefixWriter): void {
  if (ranges.length === 0) {
    w.write(LEVEL_0, 'No LimitRange resource.\n');
    return;
  }
  w.write(LEVEL_0, 'Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n');
  w.write(LEVEL_0, ' ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
  for (const lr of ranges) describeLimitRangeSpec(w, lr, ' ');
}
