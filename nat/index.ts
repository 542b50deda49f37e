// nat/: distributed floating-IP NAT and SNAT in the Linux kernel (nftables maps in our
// own `table inet <name>`, conntrack zones for overlapping tenants, policy routing via
// iproute2). Public surface of the folder; see README section "NAT" and state.ts for
// the packet path. RFC 2663 (NAT terms), RFC 3022 (NAPT), RFC 4787 (UDP NAT behaviour).
//
//   const nat = new NatManager({ externalInterface: 'eth0', mode: 'l3' });
//   await nat.adopt();                 // sysctls; create what is missing; no flush
//   await nat.reconcile(desired);      // validate all, apply only the difference
//   await nat.addFip({ fip, tenant, fixedIp });  // one transaction through the nftd helper
//   await nat.moveFip(...); await nat.removeFip(fip);  // conntrack of the FIP cleared after
//   await nat.read();                  // kernel view for GET /api/v1/nat
//   nat.close();                       // ends the nftd helper (python3-nftables)

export { NatError, NAT_ERRORS, type NatErrorCode } from './errors.js';
export { DEFAULT_CONFIG, type NatConfig, type NatDesired, type NatFip, type NatMode, type NatPort, type NatSnat, type NatTenant } from './model.js';
export { NatManager, type ApplyResult, type NatManagerOptions, type NatSnapshot } from './manager.js';
export { processRunner, type Runner, type RunResult } from './exec.js';
export { shellRunner } from './shell.js';
export { nftHelper, NFTD_SCRIPT, type NftClient, type NftHelperOptions } from './nftd.js';
// Pure parts (golden-tested; usable by the agent for dry runs and by the CLI).
export { validateDesired, validateConfig, type Validated } from './validate.js';
export { buildNft, render, type NftDesired } from './state.js';
export { parseNftJson, type NftCurrent } from './parse.js';
export { diffNft, type NftDiff } from './diff.js';
export { buildPlumb, diffPlumb, type PlumbState, type PlumbDiff } from './plumb.js';
