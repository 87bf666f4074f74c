/** The `docker` client bound to one daemon socket: commands, `inspect` and past events as plain values. */
import { execFile, spawn } from 'node:child_process';

/** What a finished `docker` command printed, and how it ended. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parts of `docker inspect` the facts and benches read. */
export interface ContainerInspect {
  Name: string;
  RestartCount: number;
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    Pid: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: { Status: string; FailingStreak: number; Log: unknown[] };
  };
  HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } };
}

/** One line of `docker events --format '{{json .}}'`. */
export interface DockerEvent {
  status?: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  timeNano: number;
}

/** A `docker` client talking to the daemon at `host` (`unix:///…`). */
export interface DockerCli {
  readonly host: string;
  /** Runs a command; resolves with its stdout, rejects with its stderr when it fails. */
  run(args: readonly string[]): Promise<string>;
  /** Runs a command; resolves however it ends. */
  tryRun(args: readonly string[]): Promise<CommandResult>;
  /** Runs a command whose stdin is `input`'s stdout (as in `tar c … | docker import -`). */
  runPiped(args: readonly string[], input: { command: string; args: readonly string[] }): Promise<string>;
  inspect(name: string): Promise<ContainerInspect>;
  /** The events the daemon still holds between two Unix times (seconds), oldest first; `name` narrows them to one container. */
  events(sinceS: number, untilS: number, name?: string): Promise<DockerEvent[]>;
}

/** A client for the daemon at `host`, using the `docker` binary at `binary`. */
export function dockerCli(binary: string, host: string): DockerCli {
  const env = { ...process.env, DOCKER_HOST: host };
  const tryRun = (args: readonly string[]): Promise<CommandResult> =>
    new Promise((resolve) => {
      execFile(binary, args, { env, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      });
    });
  const run = async (args: readonly string[]): Promise<string> => {
    const result = await tryRun(args);
    if (result.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    return result.stdout;
  };
  const runPiped: DockerCli['runPiped'] = (args, input) =>
    new Promise((resolve, reject) => {
      const source = spawn(input.command, input.args, { stdio: ['ignore', 'pipe', 'inherit'] });
      const sink = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      source.stdout.pipe(sink.stdin);
      let stdout = '';
      let stderr = '';
      sink.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      sink.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      source.on('error', reject);
      sink.on('error', reject);
      sink.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else reject(new Error(`${input.command} | docker ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
      });
    });
  return {
    host,
    run,
    tryRun,
    runPiped,
    inspect: async (name) => {
      const [container] = JSON.parse(await run(['inspect', name])) as ContainerInspect[];
      if (container === undefined) throw new Error(`docker inspect ${name} returned nothing`);
      return container;
    },
    events: async (sinceS, untilS, name) => {
      const filter = name === undefined ? ['--filter', 'type=container'] : ['--filter', `container=${name}`];
      const args = ['events', '--since', sinceS.toFixed(3), '--until', untilS.toFixed(3), ...filter];
      const text = await run([...args, '--format', '{{json .}}']);
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as DockerEvent);
    },
  };
}
