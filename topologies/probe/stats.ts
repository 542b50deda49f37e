// The probe's report, computed from what was sent and what came back (pure):
//   sent, received (distinct sequence numbers), lost, duplicates, reordered
//   longest gap: the longest time without a reply, measured on the receive clock between
//     consecutive replies, and from the last reply to the end of sending (traffic that never
//     came back); the wait for the very first reply (ARP, route set-up) is reported apart as
//     firstReplyMs
//   longest loss run: the most consecutive missing sequence numbers
//   who answered: replies per responder, and every switch from one responder to another
//     (time since start, first sequence number of the new responder)
//   round-trip time: min, median, p99, max
export interface Reply {
  seq: number;
  /** Sender's clock when the request left (ms). */
  sentAt: number;
  /** Sender's clock when the reply arrived (ms). */
  recvAt: number;
  from: string;
}

export interface ProbeInput {
  /** Requests sent: sequence numbers 0 .. sent-1. */
  sent: number;
  /** Clock at the first send and at the last send (ms). */
  startAt: number;
  endAt: number;
  /** Replies in arrival order. */
  replies: Reply[];
  /** Requests the local stack refused (e.g. a blackhole route at the sender). */
  sendErrors?: number;
}

export interface Gap {
  ms: number;
  /** Offsets from the first send (ms). */
  fromMs: number;
  toMs: number;
  /** Last sequence number before and first after the gap (-1/undefined at the edges). */
  afterSeq: number;
  beforeSeq?: number;
}

export interface ProbeReport {
  sent: number;
  received: number;
  lost: number;
  lossPercent: number;
  duplicates: number;
  reordered: number;
  sendErrors: number;
  durationMs: number;
  /** From the first send to the first reply (undefined: no reply at all). */
  firstReplyMs?: number;
  longestGap: Gap;
  longestLossRun: { packets: number; firstSeq?: number };
  responders: Record<string, number>;
  switches: Array<{ atMs: number; seq: number; from: string; to: string }>;
  /** Last responder heard, and whether replies still arrived at the end (within `tailMs` of the last send). */
  lastResponder?: string;
  resumed: boolean;
  rttMs?: { min: number; median: number; p99: number; max: number };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** `tailMs`: replies to requests sent in the last tailMs count as "traffic resumed at the end". */
export function analyze(input: ProbeInput, tailMs = 100): ProbeReport {
  const seen = new Set<number>();
  const firsts: Reply[] = [];
  let duplicates = 0;
  let reordered = 0;
  let maxSeq = -1;
  for (const r of input.replies) {
    if (r.seq >= input.sent) continue; // not ours (an older run on the same port)
    if (seen.has(r.seq)) {
      duplicates++;
      continue;
    }
    seen.add(r.seq);
    if (r.seq < maxSeq) reordered++;
    else maxSeq = r.seq;
    firsts.push(r);
  }
  const received = firsts.length;
  const lost = input.sent - received;

  // Longest silence on the receive clock between replies, and after the last one.
  let gap: Gap = { ms: 0, fromMs: 0, toMs: 0, afterSeq: -1, beforeSeq: firsts[0]?.seq };
  let prevAt = firsts[0]?.recvAt ?? input.startAt;
  let prevSeq = firsts[0]?.seq ?? -1;
  for (const r of firsts.slice(1)) {
    const ms = r.recvAt - prevAt;
    if (ms > gap.ms) gap = { ms, fromMs: prevAt - input.startAt, toMs: r.recvAt - input.startAt, afterSeq: prevSeq, beforeSeq: r.seq };
    prevAt = r.recvAt;
    prevSeq = r.seq;
  }
  const tail = input.endAt - prevAt;
  if (tail > gap.ms) gap = { ms: tail, fromMs: prevAt - input.startAt, toMs: input.endAt - input.startAt, afterSeq: prevSeq, beforeSeq: undefined };

  let run = 0;
  let best: ProbeReport['longestLossRun'] = { packets: 0 };
  for (let s = 0; s < input.sent; s++) {
    if (seen.has(s)) {
      run = 0;
      continue;
    }
    run++;
    if (run > best.packets) best = { packets: run, firstSeq: s - run + 1 };
  }

  const responders: Record<string, number> = {};
  const switches: ProbeReport['switches'] = [];
  let last: string | undefined;
  for (const r of firsts) {
    responders[r.from] = (responders[r.from] ?? 0) + 1;
    if (last !== undefined && r.from !== last) switches.push({ atMs: r.recvAt - input.startAt, seq: r.seq, from: last, to: r.from });
    last = r.from;
  }

  const rtts = firsts.map((r) => r.recvAt - r.sentAt).sort((a, b) => a - b);
  const lastSent = firsts.length ? Math.max(...firsts.map((r) => r.sentAt)) : -Infinity;
  return {
    sent: input.sent,
    received,
    lost,
    lossPercent: input.sent ? (100 * lost) / input.sent : 0,
    duplicates,
    reordered,
    sendErrors: input.sendErrors ?? 0,
    durationMs: input.endAt - input.startAt,
    firstReplyMs: firsts.length ? firsts[0]!.recvAt - input.startAt : undefined,
    longestGap: gap,
    longestLossRun: best,
    responders,
    switches,
    lastResponder: last,
    resumed: lastSent >= input.endAt - tailMs,
    rttMs: rtts.length ? { min: rtts[0]!, median: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), max: rtts[rtts.length - 1]! } : undefined,
  };
}

const f1 = (x: number): string => x.toFixed(1);

export function formatReport(r: ProbeReport): string {
  const L = [
    `sent ${r.sent}  received ${r.received}  lost ${r.lost} (${r.lossPercent.toFixed(2)}%)  duplicates ${r.duplicates}  reordered ${r.reordered}${r.sendErrors ? `  send errors ${r.sendErrors}` : ''}`,
    `longest gap ${f1(r.longestGap.ms)} ms (${f1(r.longestGap.fromMs)}..${f1(r.longestGap.toMs)} ms, after seq ${r.longestGap.afterSeq}${r.longestGap.beforeSeq === undefined ? ', never resumed' : `, resumed at seq ${r.longestGap.beforeSeq}`})`,
    `first reply after ${r.firstReplyMs === undefined ? '(none)' : `${f1(r.firstReplyMs)} ms`}`,
    `longest loss run ${r.longestLossRun.packets} packets${r.longestLossRun.firstSeq === undefined ? '' : ` from seq ${r.longestLossRun.firstSeq}`}`,
    `responders ${Object.entries(r.responders).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}; traffic at the end: ${r.resumed ? `yes, from ${r.lastResponder}` : 'NO'}`,
  ];
  for (const s of r.switches) L.push(`switch ${s.from} -> ${s.to} at ${f1(s.atMs)} ms (seq ${s.seq})`);
  if (r.rttMs) L.push(`rtt ms min ${r.rttMs.min.toFixed(3)} median ${r.rttMs.median.toFixed(3)} p99 ${r.rttMs.p99.toFixed(3)} max ${r.rttMs.max.toFixed(3)}`);
  return `${L.join('\n')}\n`;
}

/** How many requests are due `elapsedMs` after the start at `rate` per second (the sender catches up after a late timer). */
export function dueCount(elapsedMs: number, ratePerSecond: number): number {
  return Math.floor((elapsedMs * ratePerSecond) / 1000) + 1;
}
