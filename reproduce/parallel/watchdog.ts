/**
 * The watchdog of a parallel run: a tiny detached node process that outlives the CLI only
 * to clean up after it. The CLI writes "+<pid>" when it starts a worker and "-<pid>" when
 * one has exited; when the CLI dies, even by SIGKILL (no handler runs), the watchdog's
 * stdin closes and it continues (SIGCONT) and kills (SIGKILL) every worker still listed.
 *
 * Why it is needed: a worker paused for another's timed section (SIGSTOP) cannot notice
 * its parent's death, and would sit stopped forever, holding memory. The script is inline
 * (node -e) so that the bundle needs no file for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';

const SCRIPT = `
const pids = new Set();
let buf = '';
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
function cleanUp() {
  for (const p of pids) {
    try { process.kill(p, 'SIGCONT'); } catch {}
    try { process.kill(p, 'SIGKILL'); } catch {}
  }
  process.exit(0);
}
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid);
    else if (line[0] === '-') pids.delete(pid);
  }
});
process.stdin.on('end', cleanUp);
process.stdin.on('error', cleanUp);
`;

export class Watchdog {
  private readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, ['-e', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    this.child.on('error', () => {}); // without it, a watchdog that cannot start would crash the run
    this.child.stdin!.on('error', () => {});
    // Neither the process nor its pipe keeps the CLI alive.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  watch(pid: number): void {
    this.child.stdin!.write(`+${pid}\n`);
  }

  forget(pid: number): void {
    this.child.stdin!.write(`-${pid}\n`);
  }

  /** Every worker is gone: the watchdog exits with nothing to kill. */
  close(): void {
    this.child.stdin!.end();
  }
}
