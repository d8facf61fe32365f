import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SystemdNotifier, type NotifyExec } from '../../../src/observability';

function fakeExec(): { exec: NotifyExec; calls: Array<{ file: string; args: readonly string[]; socket: string | undefined }> } {
  const calls: Array<{ file: string; args: readonly string[]; socket: string | undefined }> = [];
  return {
    calls,
    exec: async (file, args, env) => {
      calls.push({ file, args, socket: env['NOTIFY_SOCKET'] });
      return { code: 0, stderr: '' };
    },
  };
}

describe('sd_notify through systemd-notify', () => {
  it('does nothing without NOTIFY_SOCKET', async () => {
    const f = fakeExec();
    const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '30000000' }, exec: f.exec });
    expect(n.enabled).toBe(false);
    await n.ready('up');
    await n.watchdog();
    await n.stopping();
    expect(n.startWatchdog()).toBe(false);
    expect(f.calls).toEqual([]);
  });

  it('runs systemd-notify with VAR=VALUE arguments, in order, with NOTIFY_SOCKET passed on', async () => {
    const f = fakeExec();
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/run/systemd/notify' }, exec: f.exec });
    void n.ready('2/2 peers established');
    void n.status('line one\nline two');
    await n.stopping('shutting down');
    expect(f.calls).toEqual([
      { file: 'systemd-notify', args: ['READY=1', 'STATUS=2/2 peers established'], socket: '/run/systemd/notify' },
      { file: 'systemd-notify', args: ['STATUS=line one line two'], socket: '/run/systemd/notify' },
      { file: 'systemd-notify', args: ['STOPPING=1', 'STATUS=shutting down'], socket: '/run/systemd/notify' },
    ]);
  });

  it('pings the watchdog at half of WATCHDOG_USEC, only for our PID and while healthy', async () => {
    const f = fakeExec();
    const env = { NOTIFY_SOCKET: '@sock', WATCHDOG_USEC: '20000000' };
    expect(new SystemdNotifier({ env, exec: f.exec }).watchdogIntervalMs()).toBe(10_000);
    expect(new SystemdNotifier({ env: { ...env, WATCHDOG_PID: '1' }, exec: f.exec, pid: 2 }).watchdogIntervalMs()).toBeUndefined();
    expect(new SystemdNotifier({ env: { ...env, WATCHDOG_PID: '2' }, exec: f.exec, pid: 2 }).watchdogIntervalMs()).toBe(10_000);
    expect(new SystemdNotifier({ env: { NOTIFY_SOCKET: '@sock' }, exec: f.exec }).watchdogIntervalMs()).toBeUndefined();

    jest.useFakeTimers();
    try {
      let healthy = true;
      const n = new SystemdNotifier({ env, exec: f.exec });
      expect(n.startWatchdog(() => healthy)).toBe(true);
      await jest.advanceTimersByTimeAsync(25_000);
      expect(f.calls.map((c) => c.args.join(' '))).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
      healthy = false;
      await jest.advanceTimersByTimeAsync(20_000);
      expect(f.calls).toHaveLength(3);
      n.stopWatchdog();
    } finally {
      jest.useRealTimers();
    }
  });

  it('reports failures instead of throwing', async () => {
    const errors: string[] = [];
    const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x' }, binary: '/nonexistent/systemd-notify', onError: (e) => errors.push(e.message) });
    await n.ready();
    expect(errors).toEqual(['/nonexistent/systemd-notify not found: install the Debian package "systemd" (it ships systemd-notify) or unset NOTIFY_SOCKET']);
    const m = new SystemdNotifier({ env: { NOTIFY_SOCKET: '/x' }, exec: async () => ({ code: 1, stderr: 'No such file or directory\n' }), onError: (e) => errors.push(e.message) });
    await m.watchdog();
    expect(errors[1]).toBe('systemd-notify WATCHDOG=1 exited 1: No such file or directory');
  });

  describe('with the real systemd-notify and a datagram receiver', () => {
    let dir: string;
    let receiver: ChildProcess | undefined;
    const messages: string[] = [];

    beforeAll(async () => {
      for (const tool of ['systemd-notify', 'python3']) {
        if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
          throw new Error(`${tool} is not installed: install the Debian packages systemd and python3 (scripts/setup.sh)`);
        }
      }
      dir = mkdtempSync(join(tmpdir(), 'tartan-notify-'));
      const sock = join(dir, 'notify.sock');
      receiver = spawn('python3', [join(__dirname, 'notify-receiver.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
      const lines = createInterface({ input: receiver.stdout! });
      await new Promise<void>((resolve, reject) => {
        receiver!.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
        lines.on('line', (l) => {
          const v = JSON.parse(l) as { listening?: string; message?: string };
          if (v.listening) resolve();
          if (v.message !== undefined) {
            messages.push(v.message);
          }
        });
      });
    });

    afterAll(() => {
      if (receiver?.pid !== undefined && receiver.exitCode === null) receiver.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    });

    it('delivers READY, STATUS, WATCHDOG and STOPPING to NOTIFY_SOCKET', async () => {
      const errors: Error[] = [];
      const n = new SystemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '60000000' }, onError: (e) => errors.push(e) });
      await n.ready('listening on :179');
      await n.watchdog();
      await n.status('1/1 peers established');
      await n.stopping();
      expect(errors).toEqual([]);
      // systemd-notify adds BARRIER=1 round trips; the payloads are ours, in order.
      expect(messages.filter((m) => m !== 'BARRIER=1')).toEqual(['READY=1\nSTATUS=listening on :179', 'WATCHDOG=1', 'STATUS=1/1 peers established', 'STOPPING=1']);
    });
  });
});
