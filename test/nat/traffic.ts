// Tiny traffic tool for the NAT kernel tests, run inside a namespace with
// `ip netns exec NS node traffic.js …`. Servers answer with who they are and which
// source address they saw; clients print JSON with what came back and from where.
//   serve NAME PORT            UDP+TCP echo on [::]:PORT (prints "ready")
//   udp DST PORT [SRCPORT]     one datagram, waits for the reply (2 s)
//   tcp DST PORT               one connection, one line
//   hold DST PORT              long-lived TCP: sends a line every 50 ms, prints replies
import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);

function unmap(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

if (mode === 'serve') {
  const name = a!;
  const port = Number(b);
  const udp = createSocket({ type: 'udp6' });
  udp.on('message', (msg, r) => {
    udp.send(JSON.stringify({ server: name, peer: unmap(r.address), peerPort: r.port, nonce: msg.toString() }), r.port, r.address);
  });
  const tcp = createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        s.write(JSON.stringify({ server: name, peer: unmap(s.remoteAddress ?? ''), peerPort: s.remotePort, nonce: line }) + '\n');
      }
    });
    s.on('error', () => undefined);
  });
  let up = 0;
  const ready = (): void => { if (++up === 2) console.log('ready'); };
  udp.bind(port, '::', ready);
  tcp.listen(port, '::', ready);
} else if (mode === 'udp') {
  const fam = a!.includes(':') ? 'udp6' : 'udp4';
  const s = createSocket({ type: fam });
  const nonce = String(Math.random()).slice(2);
  const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2); }, 2000);
  s.on('message', (msg, r) => {
    clearTimeout(timer);
    const body = JSON.parse(msg.toString());
    console.log(JSON.stringify({ ...body, replyFrom: r.address, ok: body.nonce === nonce }));
    s.close();
  });
  s.bind(c ? Number(c) : 0, () => s.send(nonce, Number(b), a!));
} else if (mode === 'tcp') {
  const nonce = String(Math.random()).slice(2);
  const s = createConnection({ host: a!, port: Number(b), timeout: 2000 }, () => s.write(nonce + '\n'));
  s.on('timeout', () => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2); });
  s.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(2); });
  s.once('data', (d) => {
    const body = JSON.parse(d.toString().split('\n')[0]!);
    console.log(JSON.stringify({ ...body, replyFrom: s.remoteAddress, ok: body.nonce === nonce }));
    s.destroy();
  });
} else if (mode === 'hold') {
  let n = 0;
  const s = createConnection({ host: a!, port: Number(b) }, () => {
    console.log('connected');
    setInterval(() => s.write(`${n++}\n`), 50);
  });
  s.setNoDelay(true);
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) console.log(l);
  });
  s.on('error', (e) => { console.log(JSON.stringify({ error: e.message })); process.exit(2); });
  s.on('close', () => { console.log(JSON.stringify({ error: 'closed' })); process.exit(3); });
} else {
  console.error('usage: traffic.js serve|udp|tcp|hold …');
  process.exit(64);
}
