// Capabilities advertisement (RFC 5492) and each capability we speak: multiprotocol
// (RFC 4760), route refresh (RFC 2918, Cisco's pre-standard code 128, enhanced RFC 7313),
// extended next hop (RFC 8950), extended message (RFC 8654), BGP role (RFC 9234),
// graceful restart (RFC 4724, N bit RFC 8538), 4-octet AS (RFC 6793), add-path (RFC 7911),
// long-lived graceful restart (RFC 9494), FQDN (draft-walton-bgp-hostname-capability).
// A capability whose value does not re-encode to the same bytes is kept raw, so a
// round trip is always exact.
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { EncodeError, fromHex, toHex } from './addr.js';
import { afiSafi, familyOf } from './family.js';
import { openError, OpenSub } from './errors.js';
import type { AddPathMode, BgpRole, Capability } from './types.js';

export const enum CapCode {
  Multiprotocol = 1,
  RouteRefresh = 2,
  ExtendedNextHop = 5,
  ExtendedMessage = 6,
  Role = 9,
  GracefulRestart = 64,
  FourOctetAs = 65,
  AddPath = 69,
  EnhancedRouteRefresh = 70,
  LongLivedGracefulRestart = 71,
  Fqdn = 73,
  RouteRefreshCisco = 128,
}

const ROLES: BgpRole[] = ['provider', 'rs', 'rs-client', 'customer', 'peer'];
const ADD_PATH_MODES: Record<number, AddPathMode> = { 1: 'receive', 2: 'send', 3: 'both' };

const malformed = (what: string) => openError(OpenSub.UnsupportedOptionalParameter, `malformed capability: ${what}`);

/** Decodes one capability value; throws on a value too short for its code. */
function decodeValue(code: number, r: Reader): Capability {
  switch (code) {
    case CapCode.Multiprotocol: {
      const afi = r.u16();
      r.u8(); // reserved; a non-zero value fails the round-trip check and stays raw
      return { type: 'multiprotocol', family: familyOf(afi, r.u8()) };
    }
    case CapCode.RouteRefresh:
      return { type: 'route-refresh' };
    case CapCode.RouteRefreshCisco:
      return { type: 'route-refresh-cisco' };
    case CapCode.EnhancedRouteRefresh:
      return { type: 'enhanced-route-refresh' };
    case CapCode.ExtendedMessage:
      return { type: 'extended-message' };
    case CapCode.ExtendedNextHop: {
      const entries: Array<{ family: ReturnType<typeof familyOf>; nextHopAfi: number }> = [];
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u16();
        if (safi > 0xff) throw malformed('extended next hop SAFI');
        entries.push({ family: familyOf(afi, safi), nextHopAfi: r.u16() });
      }
      return { type: 'extended-next-hop', entries };
    }
    case CapCode.Role: {
      const v = r.u8();
      return { type: 'role', role: ROLES[v] ?? v };
    }
    case CapCode.GracefulRestart: {
      const word = r.u16();
      const families: Array<{ family: ReturnType<typeof familyOf>; forwarding: boolean }> = [];
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u8();
        families.push({ family: familyOf(afi, safi), forwarding: (r.u8() & 0x80) !== 0 });
      }
      return { type: 'graceful-restart', restarting: (word & 0x8000) !== 0, notification: (word & 0x4000) !== 0, restartTime: word & 0x0fff, families };
    }
    case CapCode.FourOctetAs:
      return { type: '4-octet-as', asn: r.u32() };
    case CapCode.AddPath: {
      const entries: Array<{ family: ReturnType<typeof familyOf>; mode: AddPathMode }> = [];
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u8();
        const mode = ADD_PATH_MODES[r.u8()];
        if (!mode) throw malformed('add-path send/receive value');
        entries.push({ family: familyOf(afi, safi), mode });
      }
      return { type: 'add-path', entries };
    }
    case CapCode.LongLivedGracefulRestart: {
      const families: Array<{ family: ReturnType<typeof familyOf>; forwarding: boolean; staleTime: number }> = [];
      while (r.remaining > 0) {
        const afi = r.u16();
        const safi = r.u8();
        const flags = r.u8();
        families.push({ family: familyOf(afi, safi), forwarding: (flags & 0x80) !== 0, staleTime: r.u24() });
      }
      return { type: 'long-lived-graceful-restart', families };
    }
    case CapCode.Fqdn: {
      const td = new TextDecoder('utf-8', { fatal: true });
      const hostname = td.decode(r.bytes(r.u8()));
      const domainName = td.decode(r.bytes(r.u8()));
      return { type: 'fqdn', hostname, domainName };
    }
    default:
      return { type: 'unknown', code, value: toHex(r.rest()) };
  }
}

/** Writes one capability (code, length, value). */
export function encodeCapability(w: Writer, c: Capability): void {
  const code = capabilityCode(c);
  w.u8(code);
  const at = w.reserve(1);
  switch (c.type) {
    case 'multiprotocol': {
      const [afi, safi] = afiSafi(c.family);
      w.u16(afi).u8(0).u8(safi);
      break;
    }
    case 'route-refresh':
    case 'route-refresh-cisco':
    case 'enhanced-route-refresh':
    case 'extended-message':
      break;
    case 'extended-next-hop':
      for (const e of c.entries) {
        const [afi, safi] = afiSafi(e.family);
        w.u16(afi).u16(safi).u16(e.nextHopAfi);
      }
      break;
    case 'role': {
      const v = typeof c.role === 'number' ? c.role : ROLES.indexOf(c.role);
      if (v < 0 || v > 255) throw new EncodeError('role', `unknown BGP role "${c.role}"`);
      w.u8(v);
      break;
    }
    case 'graceful-restart':
      if (c.restartTime < 0 || c.restartTime > 4095) throw new EncodeError('restartTime', 'must be 0..4095');
      w.u16((c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | c.restartTime);
      for (const f of c.families) {
        const [afi, safi] = afiSafi(f.family);
        w.u16(afi).u8(safi).u8(f.forwarding ? 0x80 : 0);
      }
      break;
    case '4-octet-as':
      w.u32(c.asn);
      break;
    case 'add-path':
      for (const e of c.entries) {
        const [afi, safi] = afiSafi(e.family);
        const mode = e.mode === 'receive' ? 1 : e.mode === 'send' ? 2 : e.mode === 'both' ? 3 : -1;
        if (mode < 0) throw new EncodeError('mode', `"${e.mode}" is not receive, send or both`);
        w.u16(afi).u8(safi).u8(mode);
      }
      break;
    case 'long-lived-graceful-restart':
      for (const f of c.families) {
        const [afi, safi] = afiSafi(f.family);
        w.u16(afi).u8(safi).u8(f.forwarding ? 0x80 : 0).u24(f.staleTime);
      }
      break;
    case 'fqdn': {
      const te = new TextEncoder();
      const h = te.encode(c.hostname);
      const d = te.encode(c.domainName);
      w.u8(h.length).bytes(h).u8(d.length).bytes(d);
      break;
    }
    case 'unknown':
      w.bytes(fromHex(c.value, 'capability value'));
      break;
  }
  w.patch(at, 1, 'capability');
}

export function capabilityCode(c: Capability): number {
  switch (c.type) {
    case 'multiprotocol': return CapCode.Multiprotocol;
    case 'route-refresh': return CapCode.RouteRefresh;
    case 'route-refresh-cisco': return CapCode.RouteRefreshCisco;
    case 'enhanced-route-refresh': return CapCode.EnhancedRouteRefresh;
    case 'extended-next-hop': return CapCode.ExtendedNextHop;
    case 'extended-message': return CapCode.ExtendedMessage;
    case 'role': return CapCode.Role;
    case 'graceful-restart': return CapCode.GracefulRestart;
    case '4-octet-as': return CapCode.FourOctetAs;
    case 'add-path': return CapCode.AddPath;
    case 'long-lived-graceful-restart': return CapCode.LongLivedGracefulRestart;
    case 'fqdn': return CapCode.Fqdn;
    case 'unknown': return c.code;
  }
}

const scratch = new Writer(256);

/**
 * Decodes the capabilities inside one Capabilities optional parameter (RFC 5492 §4).
 * Each capability that does not re-encode to its exact bytes is kept as `unknown`.
 */
export function decodeCapabilities(r: Reader): Capability[] {
  const out: Capability[] = [];
  while (r.remaining > 0) {
    const code = r.u8('capability code');
    const len = r.u8('capability length');
    const value = r.sub(len, 'capability value');
    const raw = value.buf.subarray(value.pos, value.end);
    let cap: Capability;
    try {
      cap = decodeValue(code, value);
      if (value.remaining !== 0) throw malformed('trailing octets');
      scratch.reset();
      encodeCapability(scratch, cap);
      const again = scratch.buf.subarray(2, scratch.pos);
      if (again.length !== raw.length || !again.equals(raw)) cap = { type: 'unknown', code, value: toHex(raw) };
    } catch {
      cap = { type: 'unknown', code, value: toHex(raw) };
    }
    out.push(cap);
  }
  return out;
}
