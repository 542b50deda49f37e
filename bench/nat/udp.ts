// UDP load for bench/nat (run inside a namespace): `send DSTFILE|DST PORT SECONDS` blasts
// datagrams (round robin over the addresses) and prints packets sent; `sink PORT` counts
// datagrams and prints the count whenever it reads a line on stdin.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'sink') {
  const s = createSocket('udp4');
  let n = 0;
  s.on('message', () => { n++; });
  s.bind(Number(a), '0.0.0.0', () => console.log('ready'));
  createInterface({ input: process.stdin }).on('line', () => console.log(String(n)));
} else if (mode === 'send') {
  const dsts = a!.includes('/') ? readFileSync(a!, 'utf8').split('\n').filter(Boolean) : [a!];
  const port = Number(b);
  const until = Date.now() + Number(c) * 1000;
  const s = createSocket('udp4');
  const payload = Buffer.alloc(64);
  let sent = 0;
  let i = 0;
  const burst = (): void => {
    if (Date.now() >= until) { console.log(String(sent)); s.close(); return; }
    let left = 64;
    for (let k = 0; k < 64; k++) {
      s.send(payload, port, dsts[i++ % dsts.length]!, () => { sent++; if (--left === 0) setImmediate(burst); });
    }
  };
  s.bind(0, burst);
}
