// NLRI codecs per address family, in one table keyed by family (BIRD's bgp_af_table).
// Adding a family is adding a row. Families without a row are carried as raw bytes.
import { Reader } from '../reader.js';
import { Writer } from '../writer.js';
import type { Family } from '../family.js';
import type { EvpnNlri, LabeledNlri, Nlri, PrefixNlri, VpnNlri } from '../types.js';
import { decodeLabeled, decodePrefixes, encodeLabeled, encodePrefix, type NlriError } from './prefix.js';
import { decodeEvpn, encodeEvpn } from './evpn.js';

export interface NlriCodec {
  /** Decodes NLRI until the reader is empty, appending to `out`. */
  decode(r: Reader, addPath: boolean, out: Nlri[], err: NlriError): void;
  encode(w: Writer, n: Nlri, addPath: boolean): void;
}

const prefixRow = (v6: boolean): NlriCodec => ({
  decode: (r, ap, out, err) => decodePrefixes(r, v6, ap, out as PrefixNlri[], err),
  encode: (w, n, ap) => encodePrefix(w, n as PrefixNlri, v6, ap),
});
const labeledRow = (v6: boolean, withRd: boolean): NlriCodec => ({
  decode: (r, ap, out, err) => decodeLabeled(r, v6, withRd, ap, out as LabeledNlri[], err),
  encode: (w, n, ap) => encodeLabeled(w, n as LabeledNlri | VpnNlri, v6, withRd, ap),
});

const NLRI_TABLE = new Map<Family, NlriCodec>([
  ['ipv4-unicast', prefixRow(false)],
  ['ipv6-unicast', prefixRow(true)],
  ['ipv4-multicast', prefixRow(false)],
  ['ipv6-multicast', prefixRow(true)],
  ['ipv4-labeled-unicast', labeledRow(false, false)],
  ['ipv6-labeled-unicast', labeledRow(true, false)],
  ['ipv4-vpn', labeledRow(false, true)],
  ['ipv6-vpn', labeledRow(true, true)],
  ['l2vpn-evpn', {
    decode: (r, ap, out, err) => decodeEvpn(r, ap, out as EvpnNlri[], err),
    encode: (w, n, ap) => encodeEvpn(w, n as EvpnNlri, ap),
  }],
]);

export function nlriCodec(family: Family): NlriCodec | undefined {
  return NLRI_TABLE.get(family);
}

export { decodePrefixes, encodePrefix } from './prefix.js';
export { formatRd, parseRd, formatAdminValue, parseAdminValue } from './rd.js';
