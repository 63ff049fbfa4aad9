/**
 * How much CPU other processes used while a section ran, in cores: the machine's busy
 * time from /proc/stat minus this process' own CPU time, over the section's wall time.
 *
 * Why not the load average: it is a 1-minute moving average. Parallel jobs (--jobs) pause
 * every other worker during a timed section, but the average still remembers them for a
 * minute, so it would call every timed section busy. This measures the section itself.
 * Linux only (undefined elsewhere); the clock is read to measure, never to decide.
 */
import * as fs from 'node:fs';

/** USER_HZ: the unit of /proc/stat, 100 on every Linux build that matters. */
const TICKS_PER_SECOND = 100;

function machineBusySeconds(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
    return Number.isFinite(busy) ? busy / TICKS_PER_SECOND : undefined;
  } catch {
    return undefined;
  }
}

/** Starts measuring; `stop()` returns the other processes' average CPU use in cores (>= 0), or undefined off Linux. */
export function othersCpuMeter(): { stop(): number | undefined } {
  const busy0 = machineBusySeconds();
  const own0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    stop() {
      const busy1 = machineBusySeconds();
      const wall = (performance.now() - t0) / 1000;
      if (busy0 === undefined || busy1 === undefined || wall <= 0) return undefined;
      const own = process.cpuUsage(own0);
      const ownSeconds = (own.user + own.system) / 1e6;
      return Math.max(0, (busy1 - busy0 - ownSeconds) / wall);
    },
  };
}
