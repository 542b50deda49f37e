// Distributed SNAT (Dragonflow's per-chassis SNAT; NAPT, RFC 3022 §2.2): tenants are
// told apart by conntrack zone (set from the tenant's interfaces), each tenant leaves
// through its SNAT address, optionally within its own source-port slice of a shared one.

import type { VTenant } from '../validate.js';
import { markText, type Element } from '../fip/elements.js';

export interface NftRule { text: string; comment: string }

export type TenantMap = 'zone_by_iface' | 'zone_mark';

/** Interface → zone (conntrack separation) and zone → fwmark (routing into the tenant table). */
export function tenantElements(t: VTenant): Array<Element<TenantMap>> {
  return [
    ...t.ifaces.map((f) => ({ map: 'zone_by_iface' as const, key: `"${f}"`, value: String(t.zone) })),
    { map: 'zone_mark' as const, key: String(t.zone), value: markText(t.mark) },
  ];
}

/** The rules of chain snat_tenants for one tenant; the comment states the whole intent. */
export function snatRules(t: VTenant): NftRule[] {
  if (!t.snat) return [];
  const a = t.snat.address.text;
  const r = t.snat.portRange;
  const id = `efn:snat:${t.zone}:${a}${r ? `:${r.min}-${r.max}` : ''}`;
  const rules: NftRule[] = [];
  if (r) rules.push({ text: `ct original zone ${t.zone} meta l4proto { tcp, udp } snat ip to ${a}:${r.min}-${r.max}`, comment: `${id}:l4` });
  rules.push({ text: `ct original zone ${t.zone} snat ip to ${a}`, comment: id });
  return rules;
}
