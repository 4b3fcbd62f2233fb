// Test harness for the browser tests: a real `tamga server` on a free port with its own data folder, REST
// helpers to seed it (the same calls the mlflow client makes), and Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export function arg(name, dflt) {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : (process.env[`TAMGA_E2E_${name.toUpperCase().replaceAll('-', '_')}`] ?? dflt);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function startServer(bin, extra = [], env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tamga-ui-'));
  const portFile = join(dir, 'port');
  const proc = spawn(bin, ['server', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(dir, 'data'),
    '--port-file', portFile, '--grpc-port', '-1', ...extra], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 200000) stderr = stderr.slice(-100000); });
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`tamga server exited: ${stderr.slice(-2000)}`);
    if (existsSync(portFile) && readFileSync(portFile, 'utf8').trim()) {
      const port = Number(readFileSync(portFile, 'utf8').trim());
      const url = `http://127.0.0.1:${port}`;
      try {
        if ((await fetch(url + '/health')).ok) {
          return { url, dir, proc, stderr: () => stderr,
            async stop() { proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)); rmSync(dir, { recursive: true, force: true }); } };
        }
      } catch { /* not yet */ }
    }
    await sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error('tamga server did not start: ' + stderr.slice(-2000));
}

export function client(url, headers = {}) {
  const call = async (method, path, body, extraHeaders = {}) => {
    const res = await fetch(url + path, { method, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers, ...extraHeaders },
      body: body === undefined ? undefined : (typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : {};
  };
  return {
    get: (p) => call('GET', p),
    post: (p, b) => call('POST', p, b ?? {}),
    put: (p, b, h) => call('PUT', p, b, h),
    patch: (p, b) => call('PATCH', p, b),
  };
}

export async function launchBrowser() {
  const executablePath = arg('chromium', '/usr/bin/chromium');
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export function check(cond, message) {
  if (!cond) throw new Error('check failed: ' + message);
}

// Polls fn until it returns a truthy value (or throws the last error after timeoutMs).
export async function eventually(fn, message, timeoutMs = 10000) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(100);
  }
  throw new Error(`timed out: ${message}${last ? ' (' + last.message + ')' : ''}`);
}
