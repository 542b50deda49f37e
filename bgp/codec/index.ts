// bgp/codec — pure encode/decode of BGP messages (RFC 4271) and everything they carry:
// capabilities (RFC 5492 and the ones listed in capabilities.ts), path attributes
// (attrs/), NLRI per family (nlri/), RFC 7606 error handling. No sockets, timers or state.
export * from './types.js';
export * from './errors.js';
export * from './family.js';
export { EncodeError, formatIPv4, formatIPv6, parseIPv4, parseIPv6, parseIP, formatIP, parsePrefix, toHex, fromHex, parseMac, formatMac } from './addr.js';
export { Reader } from './reader.js';
export { Writer } from './writer.js';
export { decodeMessage, encodeMessage, writeMessage, checkHeader, maxMessageLength, HEADER_LENGTH, MAX_MESSAGE, MAX_EXTENDED_MESSAGE, KEEPALIVE } from './message.js';
export { Framer } from './framer.js';
export { openCapabilities } from './open.js';
export { shutdownData } from './notification.js';
export { encodeAttribute, ATTR_BY_TYPE, ATTR_BY_CODE, FLAG_OPTIONAL, FLAG_TRANSITIVE, FLAG_PARTIAL, FLAG_EXTENDED_LENGTH } from './attrs/index.js';
export { asPathLength } from './attrs/aspath.js';
export { parseCommunity, formatCommunity, parseLargeCommunity } from './attrs/communities.js';
export { encodeExtendedCommunity, decodeExtendedCommunity } from './attrs/extcommunities.js';
export { formatRd, parseRd, formatAdminValue, parseAdminValue, nlriCodec } from './nlri/index.js';
export { encodePrefix, decodePrefixes, Prefix4 } from './nlri/prefix.js';
