// OPEN message (RFC 4271 §4.2) with optional parameters (RFC 5492) in the classic or the
// RFC 9072 extended form. Checks that need no session context (§6.2: version, hold
// time, BGP Identifier) are made here; peer AS and capabilities are the session's.
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { formatIPv4, fromHex, parseIPv4, toHex, EncodeError } from './addr.js';
import { openError, OpenSub, headerError, HeaderSub } from './errors.js';
import { decodeCapabilities, encodeCapability } from './capabilities.js';
import type { Capability, OpenMessage, OpenParameter } from './types.js';

const PARAM_CAPABILITIES = 2;

export function decodeOpen(r: Reader): OpenMessage {
  const version = r.u8('version');
  if (version !== 4) throw openError(OpenSub.UnsupportedVersion, `version ${version} is not supported`, Uint8Array.of(0, 4));
  const myAs = r.u16('my AS');
  const holdTime = r.u16('hold time');
  // RFC 4271 §6.2: hold time 1 or 2 is unacceptable.
  if (holdTime === 1 || holdTime === 2) throw openError(OpenSub.UnacceptableHoldTime, `hold time ${holdTime} s`);
  const idBytes = r.bytes(4, 'BGP identifier');
  const bgpIdentifier = formatIPv4(idBytes);
  // RFC 6286 §2.2: any non-zero 32-bit value is a valid identifier.
  if (bgpIdentifier === '0.0.0.0') throw openError(OpenSub.BadBgpIdentifier, 'BGP identifier 0.0.0.0', idBytes);
  let paramsLen = r.u8('optional parameters length');
  let extended = false;
  // RFC 9072 §2: length 255 followed by a parameter type 255 announces the extended form.
  if (paramsLen === 255 && r.remaining > 0 && r.buf[r.pos] === 255) {
    r.u8();
    paramsLen = r.u16('extended optional parameters length');
    extended = true;
  }
  if (paramsLen !== r.remaining) {
    throw headerError(HeaderSub.BadMessageLength, `optional parameters length ${paramsLen} does not match the ${r.remaining} octets present`);
  }
  const params = r.sub(paramsLen, 'optional parameters', () => openError(OpenSub.UnsupportedOptionalParameter, 'optional parameter overruns the OPEN'));
  const parameters: OpenParameter[] = [];
  while (params.remaining > 0) {
    const type = params.u8('parameter type');
    const len = extended ? params.u16('parameter length') : params.u8('parameter length');
    const value = params.sub(len, 'parameter value');
    if (type === PARAM_CAPABILITIES) {
      parameters.push({ type: 'capabilities', capabilities: decodeCapabilities(value) });
    } else {
      parameters.push({ type: 'unknown', code: type, value: toHex(value.rest()) });
    }
  }
  const open: OpenMessage = { type: 'OPEN', version, myAs, holdTime, bgpIdentifier, parameters };
  if (extended) open.extendedParameters = true;
  return open;
}

export function encodeOpen(w: Writer, m: OpenMessage): void {
  if (m.myAs < 0 || m.myAs > 0xffff) throw new EncodeError('myAs', 'must fit 2 octets (use 23456 with a 4-octet-as capability)');
  w.u8(m.version ?? 4).u16(m.myAs).u16(m.holdTime).bytes(parseIPv4(m.bgpIdentifier, 'bgpIdentifier'));
  const body = new Writer(256);
  const ext = m.extendedParameters === true;
  for (const p of m.parameters) {
    if (p.type === 'capabilities') {
      body.u8(PARAM_CAPABILITIES);
      const at = body.reserve(ext ? 2 : 1);
      for (const c of p.capabilities) encodeCapability(body, c);
      body.patch(at, ext ? 2 : 1, 'optional parameter');
    } else {
      body.u8(p.code);
      const at = body.reserve(ext ? 2 : 1);
      body.bytes(fromHex(p.value, 'parameter value'));
      body.patch(at, ext ? 2 : 1, 'optional parameter');
    }
  }
  if (ext) w.u8(255).u8(255).u16(body.pos);
  else {
    if (body.pos > 255) throw new EncodeError('parameters', `${body.pos} octets need extendedParameters (RFC 9072)`);
    w.u8(body.pos);
  }
  w.bytes(body.buf.subarray(0, body.pos));
}

/** All capabilities of an OPEN, whatever parameters they came in. */
export function openCapabilities(m: OpenMessage): Capability[] {
  const out: Capability[] = [];
  for (const p of m.parameters) if (p.type === 'capabilities') out.push(...p.capabilities);
  return out;
}
