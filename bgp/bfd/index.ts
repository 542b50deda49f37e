// BFD — Bidirectional Forwarding Detection for our BGP sessions: RFC 5880 asynchronous
// mode, single hop over UDP (RFC 5881). Public surface of bgp/bfd:
//
//   codec.ts    pure encode/decode of control packets, §6.8.6 packet checks → drop reasons
//   session.ts  pure state machine step function (AdminDown/Down/Init/Up, timers, poll/final,
//               jitter, diagnostics), clock and randomness injected
//   udp.ts      BfdManager: sockets (port 3784, source ports 49152–65535, TTL 255),
//               demultiplexing, per-peer sessions with 'up'/'down' events and snapshots;
//               the nftables GTSM rules that check the received TTL for us
//   threaded.ts ThreadedBfdManager: the same BfdManager in a worker thread (worker.ts), so
//               main-thread stalls (GC, JIT, process spawns) cannot silence BFD; the
//               speaker's default
//
// Done: asynchronous mode, Active role, poll sequence, jitter, all diagnostics we can
// produce (1, 3, 7), a peer's Demand bit honoured. Not done: Echo mode, authentication
// (packets with the A bit are dropped and counted), Demand mode of our own, multihop
// (RFC 5883), the Passive role.
//
// Typical use by the speaker:
//   const bfd = new ThreadedBfdManager();    // or new BfdManager() in this thread
//   const s = await bfd.add({ peer: '192.0.2.1', local: '192.0.2.2', minTx: 100, minRx: 100, multiplier: 3 });
//   s.on('down', (ev) => { if (!ev.remoteAdminDown) tearDownBgp(ev.peer, ev.diagName); });
//   bfd.snapshot();           // for REST / Prometheus
//   await bfd.remove('192.0.2.1');
export {
  BFD_DIAG_NAMES,
  BFD_DROP_REASONS,
  BFD_STATE_NAMES,
  BfdDiag,
  BfdEncodeError,
  BfdState,
  decodeControl,
  diagName,
  encodeControl,
  type BfdAuthSection,
  type BfdControlPacket,
  type BfdDecodeResult,
  type BfdDropReason,
  type BfdStateName,
} from './codec.js';
export {
  SLOW_TX_US,
  buildPacket,
  createSession,
  detectionTimeMs,
  jitteredGapMs,
  rxIntervalUs,
  step,
  txIntervalUs,
  type BfdAction,
  type BfdEvent,
  type BfdSessionConfig,
  type BfdSessionState,
  type BfdStepContext,
  type BfdStepResult,
  type BfdTimerConfig,
  type PollState,
} from './session.js';
export {
  BFD_CONTROL_PORT,
  BFD_SRC_PORT_MAX,
  BFD_SRC_PORT_MIN,
  BfdManager,
  BfdPeerSession,
  bfdGtsmNftScript,
  bfdGtsmRules,
  realClock,
  type BfdClock,
  type BfdCounters,
  type BfdManagerOptions,
  type BfdPeerConfig,
  type BfdSnapshot,
  type BfdStateEvent,
  type BfdTimersMs,
} from './udp.js';
export {
  ThreadedBfdManager,
  ThreadedBfdSession,
  type BfdManagerLike,
  type BfdSessionLike,
  type ThreadedBfdManagerOptions,
} from './threaded.js';
