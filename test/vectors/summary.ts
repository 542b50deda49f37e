// One-line human summaries of BGP messages for the vector index (INDEX.md). Deliberately
// shallow — message type, OPEN capabilities, UPDATE attribute codes and MP families,
// NOTIFICATION codes, ROUTE-REFRESH subtype (RFC 4271 §4, 4760, 7313, 8203) — and written
// independently of bgp/codec so the index never depends on the code it is meant to check.

const TYPES: Record<number, string> = { 1: 'OPEN', 2: 'UPDATE', 3: 'NOTIFICATION', 4: 'KEEPALIVE', 5: 'ROUTE-REFRESH' };
const CAPS: Record<number, string> = {
  1: 'mp', 2: 'route-refresh', 5: 'ext-nexthop', 6: 'ext-message', 64: 'graceful-restart', 65: 'as4', 69: 'add-path',
  70: 'enhanced-rr', 71: 'llgr', 73: 'fqdn', 9: 'bgp-role', 128: 'rr-cisco', 75: 'sw-version',
};
const ATTRS: Record<number, string> = {
  1: 'ORIGIN', 2: 'AS_PATH', 3: 'NEXT_HOP', 4: 'MED', 5: 'LOCAL_PREF', 6: 'ATOMIC_AGGREGATE', 7: 'AGGREGATOR', 8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID', 10: 'CLUSTER_LIST', 14: 'MP_REACH', 15: 'MP_UNREACH', 16: 'EXT_COMMUNITIES', 17: 'AS4_PATH', 18: 'AS4_AGGREGATOR',
  22: 'PMSI_TUNNEL', 25: 'IPV6_EXT_COMMUNITIES', 26: 'AIGP', 32: 'LARGE_COMMUNITIES', 35: 'OTC',
};

export function family(afi: number, safi: number): string {
  const a = afi === 1 ? 'ipv4' : afi === 2 ? 'ipv6' : afi === 25 ? 'l2vpn' : `afi${afi}`;
  const s = safi === 1 ? 'unicast' : safi === 4 ? 'labeled' : safi === 128 ? 'vpn' : safi === 70 ? 'evpn' : safi === 2 ? 'multicast' : `safi${safi}`;
  return `${a}-${s}`;
}

export function summarize(m: Buffer): string {
  const type = m[18] ?? 0;
  const name = TYPES[type] ?? `type${type}`;
  const body = m.subarray(19);
  try {
    switch (type) {
      case 1: return `${name} ${m.length}B ${openSummary(body)}`;
      case 2: return `${name} ${m.length}B ${updateSummary(body)}`;
      case 3: {
        const code = body[0], sub = body[1];
        const data = body.subarray(2);
        let text = '';
        if (code === 6 && (sub === 2 || sub === 4) && data.length > 0) text = ` message=${JSON.stringify(data.subarray(1, 1 + (data[0] ?? 0)).toString('utf8'))}`;
        // RFC 8538 Hard Reset: data is the encapsulated error code, subcode and data.
        if (code === 6 && sub === 9 && data.length >= 2) {
          const [ic, is] = [data[0], data[1]];
          const msg = ic === 6 && (is === 2 || is === 4) && data.length > 2 ? ` message=${JSON.stringify(data.subarray(3, 3 + (data[2] ?? 0)).toString('utf8'))}` : '';
          text = ` (hard reset) inner=${ic}/${is}${msg}`;
        }
        return `${name} code=${code} subcode=${sub}${text}${data.length && !text ? ` data=${data.toString('hex')}` : ''}`;
      }
      case 4: return name;
      case 5: {
        const sub = body[2];
        return `${name} ${family(body.readUInt16BE(0), body[3] ?? 0)} ${sub === 0 ? 'request' : sub === 1 ? 'BoRR' : sub === 2 ? 'EoRR' : `subtype=${sub}`}`;
      }
      default: return `${name} ${m.length}B`;
    }
  } catch (err) {
    return `${name} ${m.length}B (summary failed: ${String(err)})`;
  }
}

function openSummary(b: Buffer): string {
  const asn = b.readUInt16BE(1), hold = b.readUInt16BE(3);
  const id = [...b.subarray(5, 9)].join('.');
  const caps: string[] = [];
  let off = 10;
  const end = 10 + (b[9] ?? 0);
  while (off < end) {
    const ptype = b[off]!, plen = b[off + 1]!;
    if (ptype === 2) {
      let c = off + 2;
      while (c < off + 2 + plen) {
        const code = b[c]!, len = b[c + 1]!;
        const v = b.subarray(c + 2, c + 2 + len);
        let s = CAPS[code] ?? `cap${code}`;
        if (code === 1) s += `(${family(v.readUInt16BE(0), v[3]!)})`;
        if (code === 65) s += `(${v.readUInt32BE(0)})`;
        if (code === 69) {
          const f: string[] = [];
          for (let i = 0; i + 4 <= v.length; i += 4) f.push(`${family(v.readUInt16BE(i), v[i + 2]!)}:${['-', 'rx', 'tx', 'rx+tx'][v[i + 3]!] ?? v[i + 3]}`);
          s += `(${f.join(',')})`;
        }
        if (code === 5) {
          const f: string[] = [];
          for (let i = 0; i + 6 <= v.length; i += 6) f.push(`${family(v.readUInt16BE(i), v.readUInt16BE(i + 2))}/nh-afi${v.readUInt16BE(i + 4)}`);
          s += `(${f.join(',')})`;
        }
        caps.push(s);
        c += 2 + len;
      }
    }
    off += 2 + plen;
  }
  return `as=${asn} hold=${hold} id=${id} caps=[${caps.join(' ')}]`;
}

function updateSummary(b: Buffer): string {
  const wlen = b.readUInt16BE(0);
  const alen = b.readUInt16BE(2 + wlen);
  const attrs = b.subarray(4 + wlen, 4 + wlen + alen);
  const nlriLen = b.length - 4 - wlen - alen;
  const parts: string[] = [];
  const names: string[] = [];
  let off = 0;
  while (off < attrs.length) {
    const flags = attrs[off]!, code = attrs[off + 1]!;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? attrs.readUInt16BE(off + 2) : attrs[off + 2]!;
    const v = attrs.subarray(off + (ext ? 4 : 3), off + (ext ? 4 : 3) + len);
    names.push(ATTRS[code] ?? `attr${code}`);
    if (code === 14) parts.push(`reach ${family(v.readUInt16BE(0), v[2]!)} nh=${v[3]}B nlri=${v.length - 5 - v[3]!}B`);
    if (code === 15) parts.push(`unreach ${family(v.readUInt16BE(0), v[2]!)} nlri=${v.length - 3}B`);
    off += (ext ? 4 : 3) + len;
  }
  if (wlen === 0 && alen === 0) return 'End-of-RIB ipv4-unicast';
  if (wlen === 0 && nlriLen === 0 && names.length === 1 && names[0] === 'MP_UNREACH' && /nlri=0B/.test(parts[0] ?? '')) {
    return `End-of-RIB ${(parts[0] ?? '').split(' ')[1]}`;
  }
  const w = wlen ? ` withdrawn=${wlen}B` : '';
  const n = nlriLen ? ` nlri=${nlriLen}B` : '';
  return `${w}${n} attrs=[${names.join(' ')}]${parts.length ? ' ' + parts.join('; ') : ''}`.trim();
}
