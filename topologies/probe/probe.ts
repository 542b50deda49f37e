// The probe's sockets: a UDP sender that paces requests at a fixed rate (catching up
// after late timers, so 1,000/s holds on average) and records every reply on its own
// monotonic clock, and a stateless echo server that answers with its name. Clock
// injectable for tests; everything else is in packet.ts (format) and stats.ts (report).
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { performance } from 'node:perf_hooks';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, REQUEST_LENGTH } from './packet.js';
import { analyze, dueCount, type ProbeReport, type Reply } from './stats.js';

export interface SendOptions {
  target: string;
  port: number;
  /** Requests per second (default 1000). */
  rate?: number;
  /** How long to send (ms); 0 = until `signal` aborts. */
  durationMs: number;
  /** UDP payload bytes (>= 16). */
  size?: number;
  /** Wait for late replies after the last send (ms, default 200). */
  lingerMs?: number;
  bind?: string;
  signal?: AbortSignal;
  now?: () => number;
  /** Called for every reply as it arrives (e.g. to watch a switch live). */
  onReply?: (r: Reply) => void;
}

export interface SendResult {
  report: ProbeReport;
  replies: Reply[];
}

export async function sendProbe(opts: SendOptions): Promise<SendResult> {
  const now = opts.now ?? (() => performance.now());
  const rate = opts.rate ?? 1000;
  const total = opts.durationMs > 0 ? Math.max(1, Math.round((opts.durationMs * rate) / 1000)) : Infinity;
  const sock = createSocket(isIPv6(opts.target) ? 'udp6' : 'udp4');
  const replies: Reply[] = [];
  let sendErrors = 0;
  sock.on('message', (msg) => {
    const r = decodeReply(msg);
    if (!r) return;
    const reply = { ...r, recvAt: now() };
    replies.push(reply);
    opts.onReply?.(reply);
  });
  sock.on('error', () => { /* ICMP errors surface here on some kernels; loss is counted from replies */ });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port: 0, address: opts.bind }, () => {
      sock.off('error', reject);
      resolve();
    });
  });

  const startAt = now();
  let endAt = startAt;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      clearInterval(timer);
      opts.signal?.removeEventListener('abort', stop);
      resolve();
    };
    const tick = (): void => {
      const due = Math.min(total, dueCount(now() - startAt, rate));
      while (sent < due) {
        const sentAt = now();
        sock.send(encodeRequest({ seq: sent, sentAt }, opts.size ?? REQUEST_LENGTH), opts.port, opts.target, (err) => {
          if (err) sendErrors++;
        });
        endAt = sentAt;
        sent++;
      }
      if (sent >= total) stop();
    };
    const timer = setInterval(tick, 1);
    if (opts.signal?.aborted) stop();
    else opts.signal?.addEventListener('abort', stop);
    tick();
  });
  await new Promise((r) => setTimeout(r, opts.lingerMs ?? 200));
  sock.close();
  return { report: analyze({ sent, startAt, endAt, replies, sendErrors }), replies };
}

export interface EchoServer {
  port: number;
  close(): Promise<void>;
}

/** Answers every probe request with seq, sentAt and `name`. */
export async function startEcho(opts: { port: number; name: string; bind?: string; ipv6?: boolean }): Promise<EchoServer> {
  const sock: Socket = createSocket({ type: opts.ipv6 || (opts.bind && isIPv6(opts.bind)) ? 'udp6' : 'udp4' });
  sock.on('message', (msg, rinfo) => {
    const q = decodeRequest(msg);
    if (!q) return;
    sock.send(encodeReply({ ...q, from: opts.name }), rinfo.port, rinfo.address, () => { /* a dropped reply is the loss we measure */ });
  });
  sock.on('error', () => { /* keep serving */ });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ port: opts.port, address: opts.bind }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    port: sock.address().port,
    close: () => new Promise<void>((r) => sock.close(() => r())),
  };
}
