/**
 * TLS for `kumo up --tls`: a self-signed CA and a server certificate it
 * signs, made with node:crypto alone (no openssl on the PATH needed).
 * node:crypto makes keys and signatures but not certificates, so this
 * writes the X.509 DER itself: ECDSA P-256 keys, SHA-256 signatures, the
 * CA marked as one (basicConstraints, keyCertSign), the server certificate
 * for serverAuth with the names and IPs clients dial in its
 * subjectAltName (Go's TLS stack, kubectl's, ignores the common name).
 * Files live in `<dataDir>/tls/` (0700, the keys 0600) and are reused
 * while they fit the host.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { privateDir, tightenFile, writePrivateFile } from '../util/private-files.js';

// --- DER (ITU-T X.690) for the few types a certificate uses ---

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
/** BIT STRING with no unused bits. */
const bits = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), b]));
/** Context-specific tag `n`, constructed (explicit) or primitive (implicit). */
const ctx = (n: number, body: Buffer, constructed = true) => tlv((constructed ? 0xa0 : 0x80) | n, body);

function integer(b: Buffer): Buffer {
  let v = b;
  while (v.length > 1 && v[0] === 0 && v[1]! < 0x80) v = v.subarray(1);
  // A leading 1 bit would make it negative.
  if (v[0]! >= 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return tlv(0x02, v);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

function name(cn: string): Buffer {
  return seq(set(seq(oid(OID.organization), utf8('kumo'))), set(seq(oid(OID.commonName), utf8(cn))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
}

/** keyUsage bits: digitalSignature (bit 0) and/or keyCertSign (bit 5), as a minimal BIT STRING. */
function keyUsage(digitalSignature: boolean, certSign: boolean): Buffer {
  const byte = (digitalSignature ? 0x80 : 0) | (certSign ? 0x04 : 0);
  const unused = certSign ? 2 : 7;
  return tlv(0x03, Buffer.from([unused, byte]));
}

function subjectAltName(hosts: readonly string[]): Buffer {
  const names = hosts.map((h) => {
    const family = isIP(h);
    if (family === 4) return ctx(7, Buffer.from(h.split('.').map(Number)), false);
    if (family === 6) {
      const full = expandIPv6(h);
      return ctx(7, Buffer.from(full.flatMap((g) => [g >> 8, g & 0xff])), false);
    }
    return ctx(2, Buffer.from(h, 'ascii'), false);
  });
  return seq(...names);
}

function expandIPv6(ip: string): number[] {
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  return tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}

function keyId(publicKey: KeyObject): Buffer {
  // RFC 5280's method hashes the key bits; any stable unique value will do, so hash the SPKI.
  return createHash('sha1')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
}

function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

interface Issued {
  certPem: string;
  keyPem: string;
}

function certificate(opts: {
  subject: string;
  issuer: string;
  subjectKey: { publicKey: KeyObject; privateKey: KeyObject };
  issuerKey: { publicKey: KeyObject; privateKey: KeyObject };
  ca: boolean;
  hosts?: readonly string[];
  days: number;
}): Issued {
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const notBefore = new Date(Date.now() - 60 * 60 * 1000);
  const notAfter = new Date(Date.now() + opts.days * 24 * 60 * 60 * 1000);
  const extensions = [
    extension(OID.basicConstraints, true, opts.ca ? seq(bool(true)) : seq()),
    extension(OID.keyUsage, true, keyUsage(true, opts.ca)),
    extension(OID.subjectKeyId, false, octets(keyId(opts.subjectKey.publicKey))),
    ...(opts.ca ? [] : [extension(OID.authorityKeyId, false, seq(ctx(0, keyId(opts.issuerKey.publicKey), false)))]),
    ...(opts.ca ? [] : [extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth)))]),
    ...(opts.hosts && opts.hosts.length > 0 ? [extension(OID.subjectAltName, false, subjectAltName(opts.hosts))] : []),
  ];
  const tbs = seq(
    ctx(0, integer(Buffer.from([2]))),
    integer(randomBytes(16)),
    algorithm,
    name(opts.issuer),
    seq(time(notBefore), time(notAfter)),
    name(opts.subject),
    opts.subjectKey.publicKey.export({ type: 'spki', format: 'der' }),
    ctx(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, opts.issuerKey.privateKey);
  const der = seq(tbs, algorithm, bits(signature));
  return { certPem: pem('CERTIFICATE', der), keyPem: opts.subjectKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function ecKeys(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export interface LocalTls {
  /** PEM of the CA clients trust (its base64 goes into kubeconfig's certificate-authority-data). */
  caPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * The CA and server certificate for `hosts` (names and IPs clients use),
 * read from `<dataDir>/tls/` or made there. A server certificate that does
 * not cover every host, or expires within a week, is replaced; the CA stays
 * so kubeconfigs written earlier keep working.
 */
export function localTls(dataDir: string, hosts: readonly string[]): LocalTls {
  const dir = join(dataDir, 'tls');
  privateDir(dir);
  const file = (n: string) => join(dir, n);
  for (const key of ['ca.key', 'server.key']) tightenFile(file(key));
  let caPem: string;
  let caKey: { publicKey: KeyObject; privateKey: KeyObject };
  if (existsSync(file('ca.crt')) && existsSync(file('ca.key'))) {
    caPem = readFileSync(file('ca.crt'), 'utf8');
    const privateKey = createPrivateKey(readFileSync(file('ca.key'), 'utf8'));
    caKey = { privateKey, publicKey: createPublicKey(privateKey) };
  } else {
    caKey = ecKeys();
    const ca = certificate({ subject: 'kumo-ca', issuer: 'kumo-ca', subjectKey: caKey, issuerKey: caKey, ca: true, days: 3650 });
    caPem = ca.certPem;
    writePrivateFile(file('ca.key'), ca.keyPem);
    writeFileSync(file('ca.crt'), caPem);
  }
  if (existsSync(file('server.crt')) && existsSync(file('server.key'))) {
    const certPem = readFileSync(file('server.crt'), 'utf8');
    const cert = new X509Certificate(certPem);
    const fits = hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
    const fresh = Date.parse(cert.validTo) - Date.now() > 7 * 24 * 60 * 60 * 1000;
    if (fits && fresh && cert.verify(caKey.publicKey)) return { caPem, certPem, keyPem: readFileSync(file('server.key'), 'utf8') };
  }
  const server = certificate({ subject: 'kumo-apiserver', issuer: 'kumo-ca', subjectKey: ecKeys(), issuerKey: caKey, ca: false, hosts, days: 825 });
  writePrivateFile(file('server.key'), server.keyPem);
  writeFileSync(file('server.crt'), server.certPem);
  return { caPem, certPem: server.certPem, keyPem: server.keyPem };
}

/**
 * A bearer token of a local cluster, read from `<dataDir>/<name>` (made 0600
 * if it was not) or made there with `bytes` random bytes.
 */
export function localToken(dataDir: string, name: string, bytes: number): string {
  const file = join(dataDir, name);
  if (existsSync(file)) {
    tightenFile(file);
    return readFileSync(file, 'utf8').trim();
  }
  privateDir(dataDir);
  const token = randomBytes(bytes).toString('base64url');
  writePrivateFile(file, `${token}\n`);
  return token;
}

/** The admin bearer token of a local cluster (`<dataDir>/admin-token`). */
export function localAdminToken(dataDir: string): string {
  return localToken(dataDir, 'admin-token', 32);
}
