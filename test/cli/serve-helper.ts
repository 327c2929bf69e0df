/**
 * Starts `kiln serve` as a user would (a child process on a free port) and stops it by PID. Shared
 * by the CLI tests and the dashboard's browser test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface Served {
  url: string;
  key: string;
  dashboard: string;
  eventGrid: string;
  /** The fake IMDS of a runner VM, VM_NAME standing for its resource name. */
  imds: string;
  /** That VM's attested document endpoint, VM_NAME likewise. */
  imdsAttested: string;
  registrationAudience: string;
  /** Where the app's own tables are: Azurite (started by kiln serve) or the fake cloud's Table storage. */
  tableStorage: 'azurite' | 'fake';
  tableEndpoint: string;
  /** The fake cloud's Blob storage, where the images' software reports are. */
  blobEndpoint: string;
  azuritePid?: number;
  process: ChildProcess;
  stderr: () => string;
  /** Stops the server by PID (SIGTERM) and resolves with its exit code. */
  stop: () => Promise<number | null>;
}

/** `env`: settings on top of this process's environment (as a user exports AGENT_VERSION, say). */
export function startServe(
  args: string[],
  timeoutMs = 45_000,
  env: Record<string, string> = {},
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/kiln.js', 'serve', '--port', '0', '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kiln serve did not start in ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = stdout.split('\n')[0];
      if (!stdout.includes('\n') || !line) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as Omit<Served, 'process' | 'stderr' | 'stop'>;
      resolve({
        ...info,
        process: child,
        stderr: () => stderr,
        stop: async () => {
          if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM');
          return exited;
        },
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kiln serve exited with ${code} before it served: ${stderr}`));
    });
  });
}

export function kiln(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['bin/kiln.js', ...args],
      { env, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}
