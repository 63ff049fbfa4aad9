/**
 * Headless Chromium for browser tests, through playwright-core (which ships no
 * browser): Debian's /usr/bin/chromium unless REPRO_CHROMIUM names another. Launched
 * as a Playwright browser server so we hold its PID and can kill it even when the
 * test fails in the middle.
 */
import * as fs from 'node:fs';
import { chromium, type Browser, type BrowserServer } from 'playwright-core';
import { UsageError } from '../../lib/core/errors';
import { stopProcess } from './stop-process';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REPRO_CHROMIUM) {
    if (!fs.existsSync(env.REPRO_CHROMIUM)) throw new UsageError(`REPRO_CHROMIUM=${env.REPRO_CHROMIUM} does not exist: point it at a Chromium or Chrome binary`);
    return env.REPRO_CHROMIUM;
  }
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) throw new UsageError(`no Chromium found (looked at ${CANDIDATES.join(', ')}): apt-get install chromium, or set REPRO_CHROMIUM`);
  return found;
}

export interface LaunchedChromium {
  browser: Browser;
  pid: number;
  /** Closes the browser; kills its process by PID if it does not go. Safe to call twice. */
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedChromium> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  const proc = server.process();
  const pid = proc.pid;
  if (pid === undefined) {
    await server.kill();
    throw new Error('chromium started without a PID');
  }
  let exited = proc.exitCode !== null;
  proc.on('exit', () => (exited = true));
  let browser: Browser;
  try {
    browser = await chromium.connect(server.wsEndpoint());
  } catch (e) {
    await server.kill();
    throw e;
  }
  let closed = false;
  return {
    browser,
    pid,
    close: async () => {
      if (closed) return;
      closed = true;
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      await Promise.race([server.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      if (!(await stopProcess(pid, { exited: () => exited, graceMs: 3000 }))) throw new Error(`chromium (pid ${pid}) did not stop`);
    },
  };
}
