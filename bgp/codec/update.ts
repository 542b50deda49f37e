// UPDATE message (RFC 4271 §4.3) with revised error handling (RFC 7606). Decoding keeps
// going after a recoverable error and reports the strongest action seen: a discarded
// attribute is dropped, treat-as-withdraw leaves the NLRI in place for the session to
// withdraw, and only what cannot be recovered resets the session.
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { BgpError, strongerAction, updateError, UpdateSub, type ErrorAction } from './errors.js';
import { ATTR_BY_CODE, AttrCode, canonicalFlags, encodeAttribute, FLAG_EXTENDED_LENGTH, FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE } from './attrs/index.js';
import { MalformedValue } from './attrs/aspath.js';
import { decodePrefixes, encodePrefix } from './nlri/prefix.js';
import { toHex } from './addr.js';
import type { CodecContext, PathAttribute, PrefixNlri, UpdateMessage } from './types.js';

/** RFC 7606 §5.3: an error in the withdrawn or NLRI field resets the session. */
const fieldError = (field: string) => (what: string) =>
  updateError(UpdateSub.InvalidNetworkField, `${field}: ${what}`, 'session-reset');

export interface UpdateDecode {
  message: UpdateMessage;
  /** The strongest recoverable error (attribute discard or treat-as-withdraw), if any. */
  error?: BgpError;
}

export function decodeUpdate(r: Reader, ctx: CodecContext): UpdateDecode {
  const listError = (what: string) => updateError(UpdateSub.MalformedAttributeList, what, 'session-reset');
  const withdrawnLen = r.u16('withdrawn routes length');
  if (withdrawnLen > r.remaining - 2) throw listError(`withdrawn routes length ${withdrawnLen} exceeds the message`);
  const withdrawn: PrefixNlri[] = [];
  const ipv4AddPath = ctx.addPath.has('ipv4-unicast');
  decodePrefixes(r.sub(withdrawnLen, 'withdrawn routes'), false, ipv4AddPath, withdrawn, fieldError('withdrawn routes'));
  const attrLen = r.u16('total path attribute length');
  if (attrLen > r.remaining) throw listError(`total path attribute length ${attrLen} exceeds the message`);
  const attrs = r.sub(attrLen, 'path attributes');
  const nlriReader = r.sub(r.remaining, 'NLRI');

  const attributes: PathAttribute[] = [];
  let worst: BgpError | undefined;
  const note = (e: BgpError) => {
    if (!worst || strongerAction(e.action, worst.action) !== worst.action) worst = e;
  };
  const seen = new Uint8Array(256);

  while (attrs.remaining > 0) {
    const start = attrs.pos;
    // RFC 7606 §4: too few octets for a header, or a length that overruns the
    // attribute list: treat-as-withdraw, and the Total Attribute Length still locates the NLRI.
    if (attrs.remaining < 3 || ((attrs.buf[attrs.pos]! & FLAG_EXTENDED_LENGTH) !== 0 && attrs.remaining < 4)) {
      note(updateError(UpdateSub.MalformedAttributeList, 'attribute header overruns the attribute list', 'treat-as-withdraw'));
      break;
    }
    const flags = attrs.u8();
    const code = attrs.u8();
    const len = flags & FLAG_EXTENDED_LENGTH ? attrs.u16() : attrs.u8();
    if (len > attrs.remaining) {
      note(updateError(UpdateSub.AttributeLengthError, `attribute ${code} length ${len} overruns the attribute list`, 'treat-as-withdraw', attrs.buf.subarray(start, attrs.end)));
      break;
    }
    const value = attrs.sub(len, 'attribute value');
    const whole = attrs.buf.subarray(start, attrs.pos);
    if (seen[code]) {
      // RFC 7606 §3(g): a repeated MP_REACH/MP_UNREACH is fatal; other repeats are discarded.
      if (code === AttrCode.MpReach || code === AttrCode.MpUnreach) {
        throw updateError(UpdateSub.MalformedAttributeList, `attribute ${code} appears twice`, 'session-reset', whole);
      }
      note(updateError(UpdateSub.MalformedAttributeList, `attribute ${code} appears twice; the repeat is discarded`, 'attribute-discard', whole));
      continue;
    }
    seen[code] = 1;
    const row = ATTR_BY_CODE[code];
    if (!row) {
      // RFC 4271 §6.3: an unrecognized well-known attribute is fatal; optional ones are kept.
      if ((flags & FLAG_OPTIONAL) === 0) {
        throw updateError(UpdateSub.UnrecognizedWellKnownAttribute, `unrecognized well-known attribute ${code}`, 'session-reset', whole);
      }
      attributes.push({ type: 'UNKNOWN', code, flags, value: toHex(value.rest()) });
      continue;
    }
    const fail = (subcode: UpdateSub, what: string) => {
      const e = updateError(subcode, `${row.type}: ${what}`, row.onError, whole);
      if (row.onError === 'session-reset') throw e;
      note(e);
    };
    // RFC 4271 §6.3 / RFC 7606 §3(c): flags that conflict with the type are a malformed attribute.
    const optTrans = flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE);
    // RFC 4271 §4.3: only optional transitive attributes may carry the Partial bit.
    const partialBad = (flags & FLAG_PARTIAL) !== 0 && row.flags !== (FLAG_OPTIONAL | FLAG_TRANSITIVE);
    if (optTrans !== row.flags || partialBad) {
      fail(UpdateSub.AttributeFlagsError, `flags 0x${flags.toString(16)} conflict with the attribute type`);
      continue;
    }
    // RFC 7606 §5: a zero length is an error for all but AS_PATH and ATOMIC_AGGREGATE.
    if ((len === 0 && code !== AttrCode.AsPath && code !== AttrCode.AtomicAggregate) || (row.lengths && !row.lengths(len, ctx))) {
      fail(UpdateSub.AttributeLengthError, `length ${len} is wrong`);
      continue;
    }
    try {
      const a: PathAttribute = row.decode(value, ctx);
      if (value.remaining !== 0) throw new MalformedValue(`${value.remaining} trailing octets`);
      if (flags !== canonicalFlags(row, len)) a.flags = flags;
      attributes.push(a);
    } catch (err) {
      if (err instanceof BgpError) {
        if (err.action === 'session-reset' || err.action === 'afi-safi-disable') throw new BgpError(err.code, err.subcode, err.message, { data: whole, action: err.action });
        note(err);
      } else if (err instanceof MalformedValue || err instanceof RangeError) {
        fail(row.subcode, err.message);
      } else throw err;
    }
  }

  const nlri: PrefixNlri[] = [];
  decodePrefixes(nlriReader, false, ipv4AddPath, nlri, fieldError('NLRI'));
  const message: UpdateMessage = { type: 'UPDATE', withdrawn, attributes, nlri };

  // RFC 7606 §3(d): missing well-known mandatory attributes mean treat-as-withdraw (only
  // when the UPDATE carries reachability; a pure withdrawal needs no attributes).
  const hasMpReach = seen[AttrCode.MpReach] === 1;
  if ((nlri.length > 0 || hasMpReach) && (!worst || worst.action === 'attribute-discard' || worst.action === 'none')) {
    const missing = [AttrCode.Origin, AttrCode.AsPath, ...(nlri.length > 0 ? [AttrCode.NextHop] : [])].find((c) => !seen[c]);
    if (missing !== undefined) note(updateError(UpdateSub.MissingWellKnownAttribute, `missing well-known attribute ${missing}`, 'treat-as-withdraw', Uint8Array.of(missing)));
  }
  return worst ? { message, error: worst } : { message };
}

export function encodeUpdate(w: Writer, m: UpdateMessage, ctx: CodecContext): void {
  const ipv4AddPath = ctx.addPath.has('ipv4-unicast');
  let at = w.reserve(2);
  for (const n of m.withdrawn) encodePrefix(w, n as PrefixNlri, false, ipv4AddPath);
  w.patch(at, 2, 'withdrawn routes');
  at = w.reserve(2);
  for (const a of m.attributes) encodeAttribute(w, a, ctx);
  w.patch(at, 2, 'path attributes');
  for (const n of m.nlri) encodePrefix(w, n as PrefixNlri, false, ipv4AddPath);
}

export type { ErrorAction };
