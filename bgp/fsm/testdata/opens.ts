// OPEN messages captured from real peers (test data for negotiate.test.ts).
// How: a Node listener on port 179 in netns efs-cap-us printed the first message of each
// connection; the peers ran in their own namespaces and connected to it (FRR 8.4, BIRD
// 2.0.12, GoBGP 3.10 from Debian 12), peer AS 65010 configured on each side.

/**
 * FRR 8.4, AS 65001, id 192.0.2.18, `timers 1 3` (hold 3), `bgp graceful-restart` (R and N
 * bits set: it had just started), families ipv4/ipv6 unicast, ipv4 vpn, l2vpn evpn;
 * add-path both for all four, FQDN "vm", LLGR with stale time 0, extended message.
 */
export const FRR_OPEN =
  'ffffffffffffffffffffffffffffffff00a70104fde90003c00002128a0206010400010001020601040001008002060104000200010206010400190046020280000202020002024600020641040000fde90202060002124510000101030001800300020103001946030206490402766d0002144012c07800010100000180000002010000194600021e471c00010180000000000180800000000002018000000000194680000000';

/**
 * BIRD 2.0.12, AS 4200000002 (My AS = AS_TRANS), id 192.0.2.34, hold 9, graceful restart on
 * (restart time 120), long-lived GR (stale 3600), ipv4 { add paths rx; extended next hop on },
 * ipv6 { add paths tx }, enhanced route refresh.
 */
export const BIRD_OPEN =
  'ffffffffffffffffffffffffffffffff006301045ba00009c000022246024401040001000101040002000102000506000100010002400a007800010100000201004104fa56ea02450800010101000201024600470e00010100000e1000020100000e10';

/**
 * GoBGP 3.10, AS 65003, id 192.0.2.50, hold 9, ipv4/ipv6 unicast, add-path both on ipv4
 * unicast (receive = true, send-max = 8), extended next hop ipv4/IPv6 (its default), FQDN "vm";
 * no enhanced route refresh, no graceful restart, no extended message.
 */
export const GOBGP_OPEN =
  'ffffffffffffffffffffffffffffffff00470104fdeb0009c00002322a02280200490402766d0001040001000101040002000141040000fdeb0506000100010002450400010103';
