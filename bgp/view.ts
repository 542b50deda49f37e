// What the speaker shows operators (REST, `edgeflow ctl`, metrics): plain JSON shapes,
// close to what `show bgp summary`/`show bgp neighbors` and GoBGP's API give.
import type { RouteSpec } from './routespec.js';

export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface MessageCounters {
  open: number;
  update: number;
  notification: number;
  keepalive: number;
  routeRefresh: number;
  total: number;
}

export interface NeighborView {
  address: string;
  asn: number;
  description?: string;
  state: SessionState;
  /** Seconds since Established (0 when not established). */
  uptime: number;
  /** ISO time of the last state change. */
  lastChange?: string;
  remoteId?: string;
  localAddress?: string;
  /** Negotiated hold time and keepalive in seconds. */
  holdTime: number;
  keepalive: number;
  /** Families both sides negotiated. */
  families: string[];
  /** Capability names as negotiated (e.g. 4-octet-as, add-path:ipv4-unicast:send, graceful-restart). */
  capabilities: string[];
  prefixes: { received: number; accepted: number; advertised: number };
  messages: { sent: MessageCounters; received: MessageCounters };
  flaps: number;
  lastError?: { direction: 'sent' | 'received' | 'local'; code?: number; subcode?: number; reason: string; message?: string; at: string };
  bfd?: { state: string; remoteState?: string; diag?: string; txInterval?: number; rxInterval?: number; multiplier?: number; detectionTimeMs?: number };
}

export interface PathView {
  family: string;
  /** The route key as text: "198.51.100.7/32", "65020:10|198.51.100.8/32", "5|65020:20|0|198.51.100.9/32". */
  prefix: string;
  /** Decoded NLRI (rd, labels, route type, vni…). */
  nlri: Record<string, unknown>;
  pathId?: number;
  /** "local" for our own routes, else the neighbor address. */
  peer: string;
  nextHop?: string;
  asPath: number[];
  origin: string;
  localPref?: number;
  med?: number;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: string[];
  best: boolean;
  /** Why this path is (or is not) best, from the decision process. */
  reason?: string;
  stale?: boolean;
  /** Seconds since received. */
  age: number;
}

/** The speaker as the API sees it. Mutations go through the speaker's single writer. */
export interface SpeakerApi {
  readonly asn: number;
  readonly routerId: string;
  neighbors(): NeighborView[];
  neighbor(address: string): NeighborView | undefined;
  rib(family: string): PathView[];
  received(address: string, family: string): PathView[] | undefined;
  advertised(address: string, family: string): PathView[] | undefined;
  localRoutes(): RouteSpec[];
  /** Adds or replaces local routes (by key); validates all first, applies none on error. */
  addRoutes(specs: RouteSpec[]): Promise<number>;
  /** Removes local routes by key; returns how many existed. */
  removeRoutes(specs: RouteSpec[]): Promise<number>;
  /** Route refresh or a hard reset of one neighbor. */
  resetNeighbor(address: string, mode: 'soft-in' | 'soft-out' | 'hard'): Promise<boolean>;
}
