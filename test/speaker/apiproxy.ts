// Interop helper: runs inside a speaker's network namespace and forwards every connection
// on a Unix socket (usable from the root namespace: Unix sockets are not bound to a
// network namespace) to TCP 127.0.0.1:PORT in the namespace, where `edgeflow speaker`
// serves its REST API. Usage: node apiproxy.js SOCKET_PATH PORT. Prints "ready" once listening.
import * as net from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, portText] = process.argv.slice(2);
if (!socketPath || !portText) {
  process.stderr.write('usage: apiproxy SOCKET_PATH PORT\n');
  process.exit(2);
}
const port = Number(portText);
rmSync(socketPath, { force: true });
const server = net.createServer((client) => {
  const upstream = net.connect({ host: '127.0.0.1', port });
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
server.listen(socketPath, () => process.stdout.write('ready\n'));
process.stdin.resume();
process.stdin.on('end', () => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
});
