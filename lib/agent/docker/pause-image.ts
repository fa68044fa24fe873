/**
 * The sandbox image, built offline: no registry is needed to run pods. Its
 * only file is `/pause`, a static ELF of a few dozen bytes that sleeps in a
 * loop (pause(2) on x86-64, ppoll(2) on arm64) and so holds the pod's network
 * namespace, as Kubernetes' pause container does. As PID 1 without signal
 * handlers it ignores SIGTERM: sandboxes are stopped with SIGKILL.
 */
import { tar } from './tar.js';

export const PAUSE_IMAGE = 'kumo/pause:1';

const VADDR = 0x400000n;

/** The machine code of the sleep loop, per architecture. */
function code(arch: string): { machine: number; bytes: Buffer } {
  if (arch === 'x64') {
    // loop: mov eax, 34 (pause); syscall; jmp loop
    return { machine: 0x3e, bytes: Buffer.from([0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7]) };
  }
  if (arch === 'arm64') {
    // loop: x0..x3 = 0; x8 = 73 (ppoll); svc #0; b loop
    const words = [0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd2800928, 0xd4000001, 0x17fffffa];
    const b = Buffer.alloc(words.length * 4);
    words.forEach((w, i) => b.writeUInt32LE(w, i * 4));
    return { machine: 0xb7, bytes: b };
  }
  throw new Error(`no pause binary for architecture ${arch}`);
}

/** A static ELF64 executable: one header, one loadable segment, the code. */
export function pauseBinary(arch: string = process.arch): Buffer {
  const { machine, bytes } = code(arch);
  const ehsize = 64;
  const phsize = 56;
  const size = ehsize + phsize + bytes.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(VADDR + BigInt(ehsize + phsize), 24); // entry
  b.writeBigUInt64LE(BigInt(ehsize), 32); // phoff
  b.writeBigUInt64LE(0n, 40); // shoff
  b.writeUInt32LE(0, 48);
  b.writeUInt16LE(ehsize, 52);
  b.writeUInt16LE(phsize, 54);
  b.writeUInt16LE(1, 56); // phnum
  b.writeUInt16LE(0, 58);
  b.writeUInt16LE(0, 60);
  b.writeUInt16LE(0, 62);
  const ph = ehsize;
  b.writeUInt32LE(1, ph); // PT_LOAD
  b.writeUInt32LE(5, ph + 4); // R+X
  b.writeBigUInt64LE(0n, ph + 8);
  b.writeBigUInt64LE(VADDR, ph + 16);
  b.writeBigUInt64LE(VADDR, ph + 24);
  b.writeBigUInt64LE(BigInt(size), ph + 32);
  b.writeBigUInt64LE(BigInt(size), ph + 40);
  b.writeBigUInt64LE(0x1000n, ph + 48);
  bytes.copy(b, ehsize + phsize);
  return b;
}

/** The root filesystem of the pause image, as a tar for `docker import`. */
export function pauseRootfs(arch: string = process.arch): Buffer {
  return tar([
    { type: 'file', path: 'pause', data: pauseBinary(arch), mode: 0o755 },
    { type: 'dir', path: 'etc' },
    { type: 'dir', path: 'dev' },
    { type: 'dir', path: 'proc' },
    { type: 'dir', path: 'sys' },
  ]);
}
