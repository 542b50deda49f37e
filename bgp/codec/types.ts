// The BGP messages as values: discriminated unions whose JSON form is the CLI's and the
// API's (protocol names, prefixes as text, opaque bytes as hex). Lengths are never
// stored: the encoder computes them. Anything we do not understand is kept as raw hex
// so it survives a decode/encode round trip byte for byte.
import type { BgpErrorJson } from './errors.js';
import type { Family } from './family.js';

// ---------------------------------------------------------------- session context

/** What the session negotiated that changes the wire format (GoBGP calls these options). */
export interface CodecContext {
  /** Both sides have the 4-octet AS capability (RFC 6793): AS_PATH and AGGREGATOR carry 4-octet ASNs. */
  as4: boolean;
  /** Families whose NLRI carry an add-path path ID in this direction (RFC 7911). */
  addPath: ReadonlySet<Family>;
  /** Extended messages (RFC 8654): up to 65535 octets instead of 4096. */
  extendedMessage: boolean;
}

export const DEFAULT_CONTEXT: CodecContext = { as4: true, addPath: new Set(), extendedMessage: false };

// ---------------------------------------------------------------- messages

export type Message = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

export interface OpenMessage {
  type: 'OPEN';
  version: number;
  /** "My Autonomous System": AS_TRANS (23456) when the real ASN needs 4 octets. */
  myAs: number;
  holdTime: number;
  bgpIdentifier: string;
  /** Optional parameters in wire order; capabilities are grouped as the peer grouped them. */
  parameters: OpenParameter[];
  /** The RFC 9072 extended optional-parameters form was (or is to be) used. */
  extendedParameters?: boolean;
}

export type OpenParameter =
  | { type: 'capabilities'; capabilities: Capability[] }
  | { type: 'unknown'; code: number; value: string };

export interface UpdateMessage {
  type: 'UPDATE';
  /** IPv4 unicast withdrawn routes (the RFC 4271 field). */
  withdrawn: Nlri[];
  attributes: PathAttribute[];
  /** IPv4 unicast NLRI (the RFC 4271 field). */
  nlri: Nlri[];
}

export interface NotificationMessage {
  type: 'NOTIFICATION';
  code: number;
  subcode: number;
  /** Data field as hex. */
  data: string;
  /** RFC 8203/9003 shutdown communication, decoded from `data` for Cease 2 and 4 (read-only view). */
  shutdownMessage?: string;
  /** "Cease/Administrative Shutdown" (read-only view). */
  reason?: string;
}

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
}

export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  family: Family;
  /** RFC 7313: 0 normal request, 1 BoRR, 2 EoRR. */
  subtype: number;
}

// ---------------------------------------------------------------- capabilities (RFC 5492)

export type AddPathMode = 'receive' | 'send' | 'both';
export type BgpRole = 'provider' | 'rs' | 'rs-client' | 'customer' | 'peer';

export type Capability =
  | { type: 'multiprotocol'; family: Family }
  | { type: 'route-refresh' }
  | { type: 'route-refresh-cisco' }
  | { type: 'enhanced-route-refresh' }
  | { type: 'extended-next-hop'; entries: Array<{ family: Family; nextHopAfi: number }> }
  | { type: 'extended-message' }
  | { type: 'role'; role: BgpRole | number }
  | {
      type: 'graceful-restart';
      restarting: boolean;
      /** RFC 8538 N bit. */
      notification: boolean;
      restartTime: number;
      families: Array<{ family: Family; forwarding: boolean }>;
    }
  | { type: '4-octet-as'; asn: number }
  | { type: 'add-path'; entries: Array<{ family: Family; mode: AddPathMode }> }
  | { type: 'long-lived-graceful-restart'; families: Array<{ family: Family; forwarding: boolean; staleTime: number }> }
  | { type: 'fqdn'; hostname: string; domainName: string }
  | { type: 'unknown'; code: number; value: string };

// ---------------------------------------------------------------- NLRI

/** IPv4/IPv6 unicast or multicast prefix (RFC 4271 §4.3, RFC 4760). */
export interface PrefixNlri {
  prefix: string;
  pathId?: number;
}

/** Labeled unicast (RFC 8277): label values (20 bits), bottom of stack on the last. */
export interface LabeledNlri {
  prefix: string;
  labels?: number[];
  /** Raw 24-bit label stack entries, used instead of `labels` when they are not canonical (e.g. the 0x800000 withdraw label). */
  labelStack?: number[];
  pathId?: number;
}

/** VPN-IPv4/VPN-IPv6 (RFC 4364 §4.3.4, RFC 4659). */
export interface VpnNlri extends LabeledNlri {
  rd: string;
}

/** EVPN routes (RFC 7432 §7, RFC 9136 §3). `label` fields are the raw 24-bit field (RFC 8365: the VNI for VXLAN). */
export type EvpnNlri =
  | { routeType: 1; rd: string; esi: string; ethernetTag: number; label: number; pathId?: number }
  | { routeType: 2; rd: string; esi: string; ethernetTag: number; mac: string; ip?: string; labels: number[]; pathId?: number }
  | { routeType: 3; rd: string; ethernetTag: number; originatorIp: string; pathId?: number }
  | { routeType: 4; rd: string; esi: string; originatorIp: string; pathId?: number }
  | { routeType: 5; rd: string; esi: string; ethernetTag: number; prefix: string; gateway: string; label: number; pathId?: number }
  | { routeType: number; value: string; pathId?: number };

export type Nlri = PrefixNlri | LabeledNlri | VpnNlri | EvpnNlri;

// ---------------------------------------------------------------- path attributes (RFC 4271 §5)

export type AsSegmentType = 'AS_SET' | 'AS_SEQUENCE' | 'AS_CONFED_SEQUENCE' | 'AS_CONFED_SET';
export interface AsSegment {
  type: AsSegmentType;
  asns: number[];
}

export type ExtendedCommunity =
  | { type: 'route-target'; value: string }
  | { type: 'route-origin'; value: string }
  | { type: 'encapsulation'; tunnelType: number }
  | { type: 'router-mac'; mac: string }
  | { type: 'mac-mobility'; sequence: number; sticky: boolean }
  | { type: 'raw'; value: string };

/** Attribute values. `flags` appears only when the peer's flags differ from the canonical ones. */
export type PathAttribute = AttributeValue & { flags?: number };

export type AttributeValue =
  | { type: 'ORIGIN'; value: 'IGP' | 'EGP' | 'INCOMPLETE' }
  | { type: 'AS_PATH'; segments: AsSegment[] }
  | { type: 'NEXT_HOP'; value: string }
  | { type: 'MULTI_EXIT_DISC'; value: number }
  | { type: 'LOCAL_PREF'; value: number }
  | { type: 'ATOMIC_AGGREGATE' }
  | { type: 'AGGREGATOR'; asn: number; address: string }
  | { type: 'COMMUNITIES'; values: string[] }
  | { type: 'ORIGINATOR_ID'; value: string }
  | { type: 'CLUSTER_LIST'; values: string[] }
  | MpReach
  | MpUnreach
  | { type: 'EXTENDED_COMMUNITIES'; values: ExtendedCommunity[] }
  | { type: 'AS4_PATH'; segments: AsSegment[] }
  | { type: 'AS4_AGGREGATOR'; asn: number; address: string }
  | { type: 'PMSI_TUNNEL'; pmsiFlags: number; tunnelType: number; /** raw 24-bit field (the VNI for VXLAN) */ label: number; /** an address when 4 or 16 octets, else hex */ tunnelId: string }
  | { type: 'LARGE_COMMUNITIES'; values: string[] }
  | { type: 'OTC'; value: number }
  | { type: 'UNKNOWN'; code: number; value: string };

export interface MpReach {
  type: 'MP_REACH_NLRI';
  family: Family;
  /** Next hop addresses (global, then link-local for IPv6); VPN families carry RD 0 before each, implied here. */
  nextHop: string[];
  /** Next-hop field as hex, when it is not one of the shapes above. */
  nextHopRaw?: string;
  nlri: Nlri[];
  /** NLRI field as hex, for families we do not decode. */
  nlriRaw?: string;
  /** The RFC 4760 reserved octet, only when non-zero. */
  reserved?: number;
}

export interface MpUnreach {
  type: 'MP_UNREACH_NLRI';
  family: Family;
  withdrawn: Nlri[];
  nlriRaw?: string;
}

export type AttributeType = PathAttribute['type'];

// ---------------------------------------------------------------- decode results

export type Decoded =
  | { ok: true; message: Message; /** an RFC 7606 error weaker than session reset, already applied */ error?: import('./errors.js').BgpError }
  | { ok: false; error: import('./errors.js').BgpError };

export type DecodedJson = (Message & { error?: BgpErrorJson }) | { error: BgpErrorJson };
