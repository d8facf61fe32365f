/**
 * Capabilities as NOTIFICATION data.
 *
 * RFC 5492 §5: the data of OPEN error 2/7 (Unsupported Capability) lists the
 * capabilities at fault, "encoded in the same way as it would be encoded in
 * the OPEN message": back-to-back (code, length, value) triples.
 */

import { type Capability, encodeCapability } from '../wire';

export function encodeCapabilities(caps: readonly Capability[]): Buffer {
  return Buffer.concat(caps.map((c) => encodeCapability(c)));
}
