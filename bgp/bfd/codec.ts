// BFD control packet codec (RFC 5880 §4.1 format, §6.8.6 reception checks).
// Pure: bytes in, a typed packet or a drop reason out, and back. Nothing here throws on
// peer input: every malformed packet becomes a `BfdDropReason` that the caller counts.
// The optional authentication section (§4.2–4.4) is kept as raw bytes; we do not
// authenticate (the session drops packets with the A bit set, §6.8.6).

/** Session states as carried in the 2-bit Sta field (RFC 5880 §4.1). */
export const enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

export const BFD_STATE_NAMES = ['AdminDown', 'Down', 'Init', 'Up'] as const;
export type BfdStateName = (typeof BFD_STATE_NAMES)[number];

/** Diagnostic codes (RFC 5880 §4.1, Diag field). */
export const enum BfdDiag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

export const BFD_DIAG_NAMES: readonly string[] = [
  'no-diagnostic',
  'control-detection-time-expired',
  'echo-function-failed',
  'neighbor-signaled-session-down',
  'forwarding-plane-reset',
  'path-down',
  'concatenated-path-down',
  'administratively-down',
  'reverse-concatenated-path-down',
];

export function diagName(diag: number): string {
  return BFD_DIAG_NAMES[diag] ?? `reserved-${diag}`;
}

/** Raw authentication section (§4.2): Auth Type, then everything after Auth Len. */
export interface BfdAuthSection {
  type: number;
  /** Bytes after the Auth Type and Auth Len octets (Auth Len − 2 of them). */
  data: Uint8Array;
}

/** One BFD control packet. Intervals are in microseconds, as on the wire. */
export interface BfdControlPacket {
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** C bit: control plane independent. */
  cpi: boolean;
  demand: boolean;
  detectMult: number;
  myDiscr: number;
  yourDiscr: number;
  desiredMinTx: number;
  requiredMinRx: number;
  requiredMinEchoRx: number;
  /** Present iff the A bit is set. */
  auth?: BfdAuthSection;
}

/** Why a received packet was dropped. Codec reasons first, then session/transport ones. */
export type BfdDropReason =
  | 'truncated' // fewer than 24 bytes, or fewer than 26 with the A bit set
  | 'bad-version' // §6.8.6: version is not 1
  | 'bad-length' // §6.8.6: Length below 24 (26 with A)
  | 'length-exceeds-payload' // §6.8.6: Length larger than the UDP payload
  | 'bad-auth-length' // §4.2: Auth Len smaller than 2 or beyond Length
  | 'detect-mult-zero' // §6.8.6
  | 'multipoint' // §6.8.6: M bit set
  | 'my-discr-zero' // §6.8.6
  | 'your-discr-zero-not-down' // §6.8.6: Your Discriminator 0 with State not Down/AdminDown
  | 'unknown-your-discr' // §6.8.6: no session has that discriminator
  | 'no-session' // Your Discriminator 0 and no session for the source address
  | 'wrong-source' // discriminator matched a session of another peer address
  | 'auth-not-in-use'; // §6.8.6: A bit set but we use no authentication

export const BFD_DROP_REASONS: readonly BfdDropReason[] = [
  'truncated',
  'bad-version',
  'bad-length',
  'length-exceeds-payload',
  'bad-auth-length',
  'detect-mult-zero',
  'multipoint',
  'my-discr-zero',
  'your-discr-zero-not-down',
  'unknown-your-discr',
  'no-session',
  'wrong-source',
  'auth-not-in-use',
];

export type BfdDecodeResult = { ok: true; packet: BfdControlPacket } | { ok: false; reason: BfdDropReason };

export const BFD_VERSION = 1;
export const BFD_MIN_LENGTH = 24;

const FLAG_P = 0x20;
const FLAG_F = 0x10;
const FLAG_C = 0x08;
const FLAG_A = 0x04;
const FLAG_D = 0x02;
const FLAG_M = 0x01;

function u32(b: Uint8Array, o: number): number {
  // Callers have checked o + 4 <= b.length; `?? 0` only satisfies noUncheckedIndexedAccess.
  return (((b[o] ?? 0) << 24) >>> 0) + ((b[o + 1] ?? 0) << 16) + ((b[o + 2] ?? 0) << 8) + (b[o + 3] ?? 0);
}

/**
 * Decodes one control packet from a UDP payload and applies the packet-only reception
 * checks of RFC 5880 §6.8.6 (those that need no session). Bytes beyond Length are ignored.
 */
export function decodeControl(buf: Uint8Array): BfdDecodeResult {
  if (buf.length < BFD_MIN_LENGTH) return drop('truncated');
  const b0 = buf[0] ?? 0;
  const b1 = buf[1] ?? 0;
  const detectMult = buf[2] ?? 0;
  const length = buf[3] ?? 0;
  // §6.8.6: "If the version number is not correct (1), the packet MUST be discarded."
  if (b0 >> 5 !== BFD_VERSION) return drop('bad-version');
  const hasAuth = (b1 & FLAG_A) !== 0;
  // §6.8.6: Length below the minimum correct value (24, or 26 with A) → discard.
  if (length < (hasAuth ? BFD_MIN_LENGTH + 2 : BFD_MIN_LENGTH)) return drop('bad-length');
  // §6.8.6: Length greater than the payload of the encapsulating protocol → discard.
  if (length > buf.length) return drop('length-exceeds-payload');
  // §6.8.6: Detect Mult zero → discard.
  if (detectMult === 0) return drop('detect-mult-zero');
  // §6.8.6: Multipoint bit nonzero → discard (§4.1: "MUST be zero on both transmit and receipt").
  if ((b1 & FLAG_M) !== 0) return drop('multipoint');
  const myDiscr = u32(buf, 4);
  const yourDiscr = u32(buf, 8);
  // §6.8.6: My Discriminator zero → discard.
  if (myDiscr === 0) return drop('my-discr-zero');
  const state = (b1 >> 6) as BfdState;
  // §6.8.6: Your Discriminator zero and State not Down or AdminDown → discard.
  if (yourDiscr === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) return drop('your-discr-zero-not-down');
  // §4.2: Auth Len covers Type and Len themselves and must fit inside Length.
  let auth: BfdAuthSection | undefined;
  if (hasAuth) {
    const authLen = buf[BFD_MIN_LENGTH + 1] ?? 0;
    if (authLen < 2 || BFD_MIN_LENGTH + authLen > length) return drop('bad-auth-length');
    auth = { type: buf[BFD_MIN_LENGTH] ?? 0, data: buf.slice(BFD_MIN_LENGTH + 2, BFD_MIN_LENGTH + authLen) };
  }
  const packet: BfdControlPacket = {
    diag: b0 & 0x1f,
    state,
    poll: (b1 & FLAG_P) !== 0,
    final: (b1 & FLAG_F) !== 0,
    cpi: (b1 & FLAG_C) !== 0,
    demand: (b1 & FLAG_D) !== 0,
    detectMult,
    myDiscr,
    yourDiscr,
    desiredMinTx: u32(buf, 12),
    requiredMinRx: u32(buf, 16),
    requiredMinEchoRx: u32(buf, 20),
  };
  if (auth) packet.auth = auth;
  return { ok: true, packet };
}

function drop(reason: BfdDropReason): BfdDecodeResult {
  return { ok: false, reason };
}

/** Thrown by `encodeControl` for values no packet can carry (a bug of ours, never peer input). */
export class BfdEncodeError extends Error {
  readonly code = 'EFB_BFD_ENCODE';
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new BfdEncodeError(`${name} out of range: ${v}`);
}

/** Encodes a control packet; Length is computed here (24, plus the auth section if present). */
export function encodeControl(p: BfdControlPacket): Uint8Array {
  checkUint('diag', p.diag, 0x1f);
  checkUint('state', p.state, 3);
  checkUint('detectMult', p.detectMult, 0xff);
  checkUint('myDiscr', p.myDiscr, 0xffffffff);
  checkUint('yourDiscr', p.yourDiscr, 0xffffffff);
  checkUint('desiredMinTx', p.desiredMinTx, 0xffffffff);
  checkUint('requiredMinRx', p.requiredMinRx, 0xffffffff);
  checkUint('requiredMinEchoRx', p.requiredMinEchoRx, 0xffffffff);
  const authLen = p.auth ? p.auth.data.length + 2 : 0;
  if (p.auth) checkUint('auth.type', p.auth.type, 0xff);
  const length = BFD_MIN_LENGTH + authLen;
  if (length > 0xff) throw new BfdEncodeError(`packet too long: ${length}`);
  const out = new Uint8Array(length);
  const dv = new DataView(out.buffer);
  out[0] = (BFD_VERSION << 5) | p.diag;
  out[1] =
    (p.state << 6) |
    (p.poll ? FLAG_P : 0) |
    (p.final ? FLAG_F : 0) |
    (p.cpi ? FLAG_C : 0) |
    (p.auth ? FLAG_A : 0) |
    (p.demand ? FLAG_D : 0);
  out[2] = p.detectMult;
  out[3] = length;
  dv.setUint32(4, p.myDiscr);
  dv.setUint32(8, p.yourDiscr);
  dv.setUint32(12, p.desiredMinTx);
  dv.setUint32(16, p.requiredMinRx);
  dv.setUint32(20, p.requiredMinEchoRx);
  if (p.auth) {
    out[24] = p.auth.type;
    out[25] = authLen;
    out.set(p.auth.data, 26);
  }
  return out;
}
