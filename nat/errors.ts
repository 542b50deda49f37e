// NatError: the one error type of nat/ (validation and kernel failures), with a stable
// `code` from one catalogue, the offending `field` and `value`, in the manner of ws and
// fastify error codes. Nothing is applied to the kernel when validation throws.

export const NAT_ERRORS = {
  NAT_INVALID_FIP: 'floating IP is not a unicast IPv4/IPv6 address',
  NAT_INVALID_ADDRESS: 'not a valid unicast IPv4/IPv6 address',
  NAT_INVALID_SUBNET: 'not a valid IPv4/IPv6 prefix',
  NAT_FIXED_IP_OUTSIDE_SUBNET: "fixed IP is not inside any of the tenant's subnets",
  NAT_FAMILY_MISMATCH: 'floating IP and fixed IP are of different address families',
  NAT_FIP_CONFLICT: 'floating IP is already mapped elsewhere on this compute',
  NAT_FIXED_IP_CONFLICT: 'fixed IP of this tenant already has another floating IP',
  NAT_INVALID_TENANT_ID: 'tenant id must be 1..64 characters of [A-Za-z0-9_.:@/-]',
  NAT_UNKNOWN_TENANT: 'tenant is not known on this compute',
  NAT_UNKNOWN_FIP: 'floating IP is not mapped on this compute',
  NAT_TENANT_CONFLICT: 'tenant id declared twice',
  NAT_INVALID_ZONE: 'conntrack zone must be an integer 1..65535 below the routing-table limit',
  NAT_ZONE_CONFLICT: 'conntrack zone already used by another tenant',
  NAT_INVALID_IFACE: 'interface name must be 1..15 characters of [A-Za-z0-9_.@-]',
  NAT_IFACE_CONFLICT: 'interface already belongs to another tenant or is the external interface',
  NAT_IFACE_NOT_IN_TENANT: "port interface is not one of the tenant's interfaces",
  NAT_INVALID_PORT_RANGE: 'SNAT port range must be 1 <= min <= max <= 65535',
  NAT_PORT_RANGE_OVERLAP: 'SNAT port ranges of tenants sharing one address overlap',
  NAT_INVALID_CONFIG: 'invalid NatManager configuration',
  NAT_KERNEL: 'the kernel refused a change (nft/ip/conntrack failed)',
} as const;

export type NatErrorCode = keyof typeof NAT_ERRORS;

export class NatError extends Error {
  readonly code: NatErrorCode;
  /** Which input field is wrong, as a path (e.g. `fips[3].fip`). */
  readonly field: string | undefined;
  /** The offending value, as given. */
  readonly value: unknown;

  constructor(code: NatErrorCode, field?: string, value?: unknown, detail?: string) {
    const where = field === undefined ? '' : ` (${field}=${JSON.stringify(value)})`;
    super(`${code}: ${NAT_ERRORS[code]}${where}${detail ? `: ${detail}` : ''}`);
    this.name = 'NatError';
    this.code = code;
    this.field = field;
    this.value = value;
  }
}
