/**
 * A throw-away single-node Slurm cluster inside this machine, for the integration
 * test of `npm run slurm` (ARCHITECTURE.md §7): munged with its own key and socket, slurmctld
 * and slurmd as background daemons, every file (config, state, spool, logs, PID files)
 * in one folder. No systemd and no cgroups: process tracking by /proc
 * (proctrack/linuxproc), no task plugin, no accounting.
 *
 * Needs root (slurmd runs jobs as their submitter) and the Debian packages
 * slurm-wlm + munge. `slurmClusterUnavailable()` says why it cannot start here.
 *
 *   const cluster = await startSlurmCluster(dir);   // then sbatch with env: cluster.env
 *   await cluster.stop();                           // kills every daemon by its PID file
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const BINARIES = ['/usr/sbin/munged', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', 'sbatch', 'sinfo'] as const;

export interface SlurmCluster {
  dir: string;
  /** Environment for sbatch/sinfo/squeue: SLURM_CONF pointing at this cluster. */
  env: NodeJS.ProcessEnv;
  partition: string;
  /** Stops every daemon by its PID file (waits for each to exit); safe to call twice. */
  stop(): Promise<void>;
  /** SIGTERM to every daemon without waiting (for a process 'exit' handler). */
  killNow(): void;
  /** The daemons' log files, for a failing test's message. */
  logs(): string;
}

function onPath(bin: string): boolean {
  if (bin.startsWith('/')) return fs.existsSync(bin);
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** runuser lives in /usr/sbin, which a non-login PATH may lack. */
function runuser(): string | undefined {
  return onPath('runuser') ? 'runuser' : ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => fs.existsSync(p));
}

/** Why a local cluster cannot start here (to skip a test with a reason), or undefined. */
export function slurmClusterUnavailable(): string | undefined {
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length) return `Slurm/munge not installed (missing ${missing.join(', ')}; Debian: apt-get install slurm-wlm munge)`;
  if (process.getuid?.() !== 0) return 'needs root (slurmd must run jobs as their submitter)';
  const munge = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
  if (munge.status !== 0) return "no 'munge' user (the munge package creates it)";
  if (!runuser()) return 'runuser not found (util-linux) to start munged as its own user';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`local Slurm cluster: ${what} not ready after ${timeoutMs} ms\n${logs()}`);
    await sleep(50);
  }
}

/** Starts munged, slurmctld and slurmd with everything under `dir` (created if needed). */
export async function startSlurmCluster(dir: string, opts: { cpus?: number } = {}): Promise<SlurmCluster> {
  const why = slurmClusterUnavailable();
  if (why) throw new Error(`cannot start a local Slurm cluster: ${why}`);
  fs.mkdirSync(dir, { recursive: true });
  dir = fs.realpathSync(dir);
  // munged runs as 'munge' and refuses group/other-writable dirs: give it a private one.
  const mungeDir = path.join(dir, 'munge');
  const state = path.join(dir, 'state');
  const spool = path.join(dir, 'spool');
  for (const d of [mungeDir, state, spool]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o755);
  // munged (user 'munge') must reach its files: every ancestor needs search permission for others.
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) throw new Error(`cannot start a local Slurm cluster in ${dir}: ${d} is not searchable by the 'munge' user (chmod o+x it, e.g. a mkdtemp folder is 0700)`);
    if (path.dirname(d) === d) break;
  }
  const key = path.join(mungeDir, 'munge.key');
  // A fresh random key: only this cluster's daemons and clients share it.
  fs.writeFileSync(key, execFileSync('head', ['-c', '1024', '/dev/urandom']), { mode: 0o600 });
  execFileSync('chown', ['-R', 'munge:munge', mungeDir]);
  // Clients reach the socket through this dir: others need x (not r/w).
  fs.chmodSync(mungeDir, 0o711);
  const socket = path.join(mungeDir, 'munge.socket');
  const pids = { munged: path.join(mungeDir, 'munged.pid'), slurmctld: path.join(dir, 'slurmctld.pid'), slurmd: path.join(dir, 'slurmd.pid') };
  const logFiles = { munged: path.join(mungeDir, 'munged.log'), slurmctld: path.join(dir, 'slurmctld.log'), slurmd: path.join(dir, 'slurmd.log') };
  const logs = () =>
    Object.entries(logFiles)
      .map(([name, f]) => `--- ${name} (${f}):\n${fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').slice(-15).join('\n') : '(no log)'}`)
      .join('\n');

  const host = os.hostname().split('.')[0];
  const node = 'repro-node';
  const partition = 'repro';
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const cpus = opts.cpus ?? Math.max(1, os.cpus().length);
  const conf = path.join(dir, 'slurm.conf');
  const plugstack = path.join(dir, 'plugstack.conf');
  fs.writeFileSync(plugstack, '');
  fs.writeFileSync(
    conf,
    [
      `# Written by reproduce/slurm-cluster.ts: a single-node test cluster, no cgroups, no accounting.`,
      `ClusterName=repro`,
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      `SlurmUser=root`,
      `SlurmdUser=root`,
      `AuthType=auth/munge`,
      `CredType=cred/munge`,
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${state}`,
      `SlurmdSpoolDir=${spool}`,
      `SlurmctldPidFile=${pids.slurmctld}`,
      `SlurmdPidFile=${pids.slurmd}`,
      `SlurmctldLogFile=${logFiles.slurmctld}`,
      `SlurmdLogFile=${logFiles.slurmd}`,
      `PlugStackConfig=${plugstack}`,
      `ProctrackType=proctrack/linuxproc`,
      `TaskPlugin=task/none`,
      `SelectType=select/cons_tres`,
      `SelectTypeParameters=CR_Core`,
      `JobAcctGatherType=jobacct_gather/none`,
      `AccountingStorageType=accounting_storage/none`,
      `JobCompType=jobcomp/none`,
      `MpiDefault=none`,
      `MailProg=/bin/true`,
      `ReturnToService=2`,
      `DependencyParameters=kill_invalid_depend`,
      `SchedulerParameters=batch_sched_delay=0`,
      `SchedulerType=sched/backfill`,
      // sbatch --wait polls every 2 s, growing x4 up to 32 s while below MinJobAge/3: keep it at 2 s.
      `MinJobAge=6`,
      `SlurmdParameters=config_overrides`,
      `NodeName=${node} NodeAddr=127.0.0.1 NodeHostname=${host} CPUs=${cpus} State=UNKNOWN`,
      `PartitionName=${partition} Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  delete env.SLURM_JOB_ID; // in case the test itself runs inside a Slurm job
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse order: slurmd, slurmctld, then munged (the others authenticate through it).
    for (const file of [pids.slurmd, pids.slurmctld, pids.munged]) {
      const pid = readPid(file);
      if (pid === undefined || !alive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      const t0 = Date.now();
      while (alive(pid) && Date.now() - t0 < 5000) await sleep(50);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  };
  const killNow = () => {
    for (const file of [pids.slurmd, pids.slurmctld, pids.munged]) {
      const pid = readPid(file);
      if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGTERM');
    }
  };
  const cluster: SlurmCluster = { dir, env, partition, stop, killNow, logs };
  try {
    execFileSync(
      runuser()!,
      ['-u', 'munge', '--', '/usr/sbin/munged', `--socket=${socket}`, `--key-file=${key}`, `--pid-file=${pids.munged}`, `--log-file=${logFiles.munged}`, `--seed-file=${path.join(mungeDir, 'munged.seed')}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await waitFor('munged', () => fs.existsSync(socket), 5000, logs);
    // Both daemons fork into the background and write their PID files.
    execFileSync('/usr/sbin/slurmctld', ['-f', conf, '-c'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('/usr/sbin/slurmd', ['-f', conf, '-N', node], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(
      'node idle',
      () => /^idle$/m.test(spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' }).stdout ?? ''),
      15000,
      logs,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return cluster;
}
