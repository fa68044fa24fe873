/**
 * configMap/secret volume contents (no containers): Kubernetes' payload
 * rules (all keys, or items with paths and modes; missing keys fail unless
 * optional) and the atomic writer's layout (`..data` swapped in one rename,
 * one link per top-level name, old versions and removed names gone).
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validProjectionPath, writeAtomically } from '#lib/agent/volumes/atomic-writer';
import { makePayload, VolumeSetupError } from '#lib/agent/volumes/manager';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('makePayload', () => {
  it('projects every key with the default mode, or the items with their own paths and modes', () => {
    const all = makePayload('v', 'configmap', { a: b64('1'), b: b64('2') }, undefined, undefined, false);
    expect([...all].map(([p, f]) => [p, f.data.toString(), f.mode])).toEqual([
      ['a', '1', 0o644],
      ['b', '2', 0o644],
    ]);
    const items = makePayload('v', 'secret', { a: b64('1'), b: b64('2') }, [{ key: 'b', path: 'sub/b.txt', mode: 0o400 }], 0o440, false);
    expect([...items].map(([p, f]) => [p, f.data.toString(), f.mode])).toEqual([['sub/b.txt', '2', 0o400]]);
  });

  it('fails on a missing item key unless the volume is optional, with the kubelet wording', () => {
    expect(() => makePayload('cfg', 'configmap', {}, [{ key: 'x', path: 'x' }], undefined, false)).toThrow(
      new VolumeSetupError('MountVolume.SetUp failed for volume "cfg" : configmap references non-existent config key: x'),
    );
    expect(() => makePayload('s', 'secret', {}, [{ key: 'x', path: 'x' }], undefined, false)).toThrow('references non-existent secret key: x');
    expect(makePayload('cfg', 'configmap', {}, [{ key: 'x', path: 'x' }], undefined, true).size).toBe(0);
    expect(() => makePayload('cfg', 'configmap', { x: b64('1') }, [{ key: 'x', path: '../escape' }], undefined, false)).toThrow('invalid path');
  });

  it('refuses paths that leave the volume', () => {
    expect(['a', 'a/b', 'a.b'].every(validProjectionPath)).toBe(true);
    expect(['', '/a', '..a', 'a/../b', 'a//b'].some(validProjectionPath)).toBe(false);
  });
});

describe('writeAtomically', () => {
  it('swaps versions through ..data, links top-level names, and removes what went away', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-vol-'));
    const file = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });
    expect(
      writeAtomically(
        dir,
        new Map([
          ['a', file('1')],
          ['sub/b', file('2', 0o600)],
        ]),
      ),
    ).toBe(true);
    const v1 = readlinkSync(join(dir, '..data'));
    expect(v1).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/);
    expect(readlinkSync(join(dir, 'a'))).toBe('..data/a');
    expect(readFileSync(join(dir, 'sub', 'b'), 'utf8')).toBe('2');
    expect(statSync(join(dir, 'sub', 'b')).mode & 0o777).toBe(0o600);
    // The same content writes nothing.
    expect(
      writeAtomically(
        dir,
        new Map([
          ['a', file('1')],
          ['sub/b', file('2', 0o600)],
        ]),
      ),
    ).toBe(false);
    expect(readlinkSync(join(dir, '..data'))).toBe(v1);

    expect(writeAtomically(dir, new Map([['a', file('changed')]]))).toBe(true);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('changed');
    const entries = readdirSync(dir).sort();
    expect(entries).toHaveLength(3);
    expect(entries).toContain('a');
    expect(entries).toContain('..data');
    expect(entries).not.toContain('sub');
    expect(entries).not.toContain(v1);
    expect(lstatSync(join(dir, '..data')).isSymbolicLink()).toBe(true);
  });
});
