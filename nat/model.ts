// The desired NAT state of one compute (what the agent asks for) and the manager's
// configuration. Plain data, no behaviour; validate.ts checks it, state.ts turns it
// into the exact kernel objects we own.

/** One tenant router present on this compute. */
export interface NatTenant {
  /** Tenant router id (used in errors and rule comments). */
  id: string;
  /**
   * Conntrack zone 1..65535 of this tenant. Packets entering from `ifaces` are tracked in
   * this zone (original direction only), which keeps overlapping fixed IPs apart. It also
   * selects the tenant's routing table (`tableBase + zone`) and fwmark (`markBase | zone`).
   */
  zone: number;
  /** Fixed-IP subnets of the tenant (IPv4 and/or IPv6 CIDR). */
  subnets: string[];
  /** Compute-side interfaces where this tenant's VM traffic arrives (taps, router ports). */
  ifaces: string[];
  /** Distributed SNAT (IPv4, with port translation) for this tenant's VMs without a FIP. */
  snat?: NatSnat | undefined;
}

export interface NatSnat {
  /** External SNAT address: one per compute (shared by tenants) or one per tenant router. */
  address: string;
  /** Optional TCP/UDP source-port slice of a shared address, inclusive. */
  portRange?: { min: number; max: number } | undefined;
}

/** A VM address on this compute: routed `fixedIp/32|128 dev iface` in the tenant's table. */
export interface NatPort {
  tenant: string;
  fixedIp: string;
  iface: string;
}

/** A 1:1 floating IP (IPv4 → IPv4, or NAT66 IPv6 → IPv6). */
export interface NatFip {
  fip: string;
  tenant: string;
  fixedIp: string;
}

export interface NatDesired {
  tenants: NatTenant[];
  ports: NatPort[];
  fips: NatFip[];
}

/**
 * How the FIPs and SNAT addresses are answered for on the external network.
 * - `l3`: nothing on the wire; the BGP /32 route (dynrouting) brings the traffic.
 * - `l2`: proxy ARP / proxy NDP on the external interface, and a gratuitous ARP
 *   (`arping -U`, Debian package iputils-arping) when a FIP is added here.
 */
export type NatMode = 'l3' | 'l2';

export interface NatConfig {
  /** nftables table name (family inet); default `edgeflow`. */
  table: string;
  /** External (provider network) interface. */
  externalInterface: string;
  mode: NatMode;
  /** First routing table; tenant with zone z uses `tableBase + z`. Default 10000. */
  tableBase: number;
  /** fwmark of a tenant = markBase | zone. Default 0x00ef0000. */
  markBase: number;
  /** Priority of our `ip rule`s. Default 1000. */
  rulePriority: number;
  /**
   * rtnetlink protocol number on our routes and rules. Default 188 (the project's
   * convention); note the kernel and iproute2 name 188 `ospf` (RTPROT_OSPF), which FRR's
   * ospfd also uses: pick another value on a compute that runs OSPF.
   */
  rtProto: number;
}

export const DEFAULT_CONFIG: Omit<NatConfig, 'externalInterface'> = {
  table: 'edgeflow',
  mode: 'l3',
  tableBase: 10000,
  markBase: 0x00ef0000,
  rulePriority: 1000,
  rtProto: 188,
};
