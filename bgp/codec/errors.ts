// BGP error type: one value that *is* the NOTIFICATION (RFC 4271 §4.5, §6) plus the
// RFC 7606 §2 error-handling action. Decoders throw it; decodeMessage catches it and
// returns it, so callers never see an exception.

/** RFC 7606 approaches, weakest first; an UPDATE keeps the strongest one seen. */
export type ErrorAction = 'none' | 'attribute-discard' | 'treat-as-withdraw' | 'afi-safi-disable' | 'session-reset';

const ACTION_RANK: Record<ErrorAction, number> = {
  none: 0,
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'afi-safi-disable': 3,
  'session-reset': 4,
};

export function strongerAction(a: ErrorAction, b: ErrorAction): ErrorAction {
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5). */
export const enum ErrorCode {
  MessageHeader = 1,
  OpenMessage = 2,
  UpdateMessage = 3,
  HoldTimerExpired = 4,
  Fsm = 5,
  Cease = 6,
  RouteRefresh = 7,
}

/** Subcodes; names follow the IANA "BGP Error Subcodes" registry. */
export const enum HeaderSub {
  ConnectionNotSynchronized = 1,
  BadMessageLength = 2,
  BadMessageType = 3,
}
export const enum OpenSub {
  UnsupportedVersion = 1,
  BadPeerAs = 2,
  BadBgpIdentifier = 3,
  UnsupportedOptionalParameter = 4,
  UnacceptableHoldTime = 6,
  UnsupportedCapability = 7,
  RoleMismatch = 11,
}
export const enum UpdateSub {
  MalformedAttributeList = 1,
  UnrecognizedWellKnownAttribute = 2,
  MissingWellKnownAttribute = 3,
  AttributeFlagsError = 4,
  AttributeLengthError = 5,
  InvalidOrigin = 6,
  InvalidNextHop = 8,
  OptionalAttributeError = 9,
  InvalidNetworkField = 10,
  MalformedAsPath = 11,
}
export const enum CeaseSub {
  MaxPrefixes = 1,
  AdministrativeShutdown = 2,
  PeerDeconfigured = 3,
  AdministrativeReset = 4,
  ConnectionRejected = 5,
  OtherConfigurationChange = 6,
  ConnectionCollisionResolution = 7,
  OutOfResources = 8,
  HardReset = 9,
  BfdDown = 10,
}

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};
const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number', 2: 'Bad Peer AS', 3: 'Bad BGP Identifier', 4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time', 7: 'Unsupported Capability', 11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List', 2: 'Unrecognized Well-known Attribute', 3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error', 5: 'Attribute Length Error', 6: 'Invalid ORIGIN Attribute', 8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error', 10: 'Invalid Network Field', 11: 'Malformed AS_PATH',
  },
  5: { 1: 'Unexpected Message in OpenSent State', 2: 'Unexpected Message in OpenConfirm State', 3: 'Unexpected Message in Established State' },
  6: {
    1: 'Maximum Number of Prefixes Reached', 2: 'Administrative Shutdown', 3: 'Peer De-configured', 4: 'Administrative Reset',
    5: 'Connection Rejected', 6: 'Other Configuration Change', 7: 'Connection Collision Resolution', 8: 'Out of Resources',
    9: 'Hard Reset', 10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** Human name of a NOTIFICATION code/subcode pair, e.g. "Cease/Administrative Shutdown". */
export function notificationName(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `Unknown code ${code}`;
  const s = SUBCODE_NAMES[code]?.[subcode];
  return subcode === 0 && s === undefined ? c : `${c}/${s ?? `subcode ${subcode}`}`;
}

export interface BgpErrorJson {
  code: number;
  subcode: number;
  data: string;
  action: ErrorAction;
  message: string;
}

/** A protocol error: the NOTIFICATION to send (code, subcode, data) and the RFC 7606 action. */
export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorAction;

  constructor(code: number, subcode: number, message: string, opts: { data?: Uint8Array; action?: ErrorAction } = {}) {
    super(message);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = opts.data ?? new Uint8Array(0);
    this.action = opts.action ?? 'session-reset';
  }

  /** Same error with another action (e.g. a malformed attribute whose type says treat-as-withdraw). */
  withAction(action: ErrorAction): BgpError {
    return new BgpError(this.code, this.subcode, this.message, { data: this.data, action });
  }

  toJSON(): BgpErrorJson {
    return {
      code: this.code,
      subcode: this.subcode,
      data: Buffer.from(this.data).toString('hex'),
      action: this.action,
      message: `${notificationName(this.code, this.subcode)}: ${this.message}`,
    };
  }
}

export function headerError(sub: HeaderSub, message: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.MessageHeader, sub, message, { data });
}
export function openError(sub: OpenSub, message: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.OpenMessage, sub, message, { data });
}
export function updateError(sub: UpdateSub, message: string, action: ErrorAction, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.UpdateMessage, sub, message, { data, action });
}
