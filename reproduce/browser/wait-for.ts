/** Polling with a deadline: for servers and pages that have no event to await. */

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Names what we waited for in the timeout error. */
  what: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Calls `check` until it returns a value other than undefined; throws after timeoutMs. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, opts: WaitOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message.split('\n')[0]})` : '';
      throw new Error(`timed out after ${(opts.timeoutMs / 1000).toFixed(0)} s waiting for ${opts.what}${why}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}
