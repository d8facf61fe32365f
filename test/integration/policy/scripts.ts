/** Tiny node programs run inside pod namespaces (no nc/socat needed). */

/** `node -e ECHO_SERVER port...`: TCP and UDP echo on every port; prints "ready" once listening. */
export const ECHO_SERVER = `
const net = require('net'), dgram = require('dgram');
const ports = process.argv.slice(1).map(Number);
let pending = ports.length * 2;
const up = () => { if (--pending === 0) console.log('ready'); };
for (const p of ports) {
  net.createServer((s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); }).listen(p, '0.0.0.0', up);
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => u.send(m, r.port, r.address));
  u.bind(p, '0.0.0.0', up);
}
`;

/**
 * \`node -e PROBE proto host port timeoutMs\`: prints OK and exits 0 when an echo
 * comes back, exits 1 otherwise (blocked traffic is dropped, so the only way
 * to see it is that nothing arrives before the timeout).
 */
export const PROBE = `
const [proto, host, port, tmo] = process.argv.slice(1);
const done = (ok) => { if (ok) console.log('OK'); process.exit(ok ? 0 : 1); };
setTimeout(() => done(false), Number(tmo));
if (proto === 'tcp') {
  const s = require('net').connect(Number(port), host, () => s.write('hi'));
  s.on('data', () => done(true)); s.on('error', () => done(false));
} else {
  const u = require('dgram').createSocket('udp4');
  u.on('message', () => done(true)); u.on('error', () => done(false));
  u.send('hi', Number(port), host);
}
`;

/** Long-lived TCP client: every stdin line is sent; every echo is printed as "echo:<text>". */
export const HOLD_CLIENT = `
const [host, port] = process.argv.slice(1);
const s = require('net').connect(Number(port), host, () => console.log('connected'));
s.on('data', (d) => console.log('echo:' + d.toString().trim()));
s.on('error', (e) => console.log('error:' + e.code));
s.on('close', () => console.log('closed'));
process.stdin.on('data', (d) => s.write(d));
`;
