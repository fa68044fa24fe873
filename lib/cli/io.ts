/**
 * Where a command's output goes and its input comes from, so the CLI runs
 * the same in the `kumo` binary and in-process (tests, other tools).
 */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** All of standard input (for `-f -`). */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

let pipeGuard = false;

/** A reader that went away (`kumo get pods | head`) ends the output quietly, as it ends kubectl's. */
function guardPipes(): void {
  if (pipeGuard) return;
  pipeGuard = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
}

export const processIO: CliIO = {
  out: (text) => {
    guardPipes();
    process.stdout.write(text);
  },
  err: (text) => {
    guardPipes();
    process.stderr.write(text);
  },
  readStdin: () => readAll(process.stdin),
  env: process.env,
};

/** An IO that records output, for running commands in-process. */
export function memoryIO(stdin = '', env: NodeJS.ProcessEnv = process.env): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
    readStdin: async () => stdin,
    env,
  };
  return io;
}
