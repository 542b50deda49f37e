// Floating-IP map elements (1:1 NAT, RFC 2663 §4.1 "basic NAT"; NAT66 for IPv6 FIPs):
// inbound DNAT FIP → fixed IP, outbound SNAT (tenant zone, fixed IP) → FIP, and the
// fwmark that routes the translated packet into the FIP's tenant table (hairpin too).

import type { VFip } from '../validate.js';

export type FipMap = 'fip4_dnat' | 'fip4_snat' | 'fip4_mark' | 'fip6_dnat' | 'fip6_snat' | 'fip6_mark';
export interface Element<M extends string = string> { map: M; key: string; value: string }

export function markText(mark: number): string {
  return `0x${(mark >>> 0).toString(16).padStart(8, '0')}`;
}

/** The three elements one FIP owns, keyed exactly as nft prints them. */
export function fipElements(f: VFip): Array<Element<FipMap>> {
  const v = f.fip.family === 4 ? '4' : '6';
  return [
    { map: `fip${v}_dnat`, key: f.fip.text, value: f.fixedIp.text },
    { map: `fip${v}_snat`, key: `${f.tenant.zone} . ${f.fixedIp.text}`, value: f.fip.text },
    { map: `fip${v}_mark`, key: f.fip.text, value: markText(f.tenant.mark) },
  ];
}
