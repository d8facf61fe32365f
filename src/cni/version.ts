/**
 * CNI spec versions this plugin speaks. Results are written in the version
 * the configuration names (0.3.x/0.4.0 results carry `ips[].version`, 1.0.0
 * ones do not); CHECK exists from 0.4.0 on. 0.1.0/0.2.0 (the old `ip4`/`ip6`
 * result) are not supported, as Calico's plugin no longer writes them either.
 */
import { CNI_INCOMPATIBLE_VERSION, CniError } from './errors';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
/** Used for output when the input names no (usable) version. */
export const DEFAULT_VERSION: CniVersion = '1.0.0';

export function isSupportedVersion(v: unknown): v is CniVersion {
  return typeof v === 'string' && (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** Semantic comparison of two "x.y.z" versions: negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** CHECK was introduced with spec 0.4.0. */
export function supportsCheck(v: string): boolean {
  return compareVersions(v, '0.4.0') >= 0;
}

/** `ips[].version` was dropped in 1.0.0. */
export function hasIpVersionField(v: string): boolean {
  return compareVersions(v, '1.0.0') < 0;
}

export function requireSupported(v: string): CniVersion {
  if (!isSupportedVersion(v)) {
    throw new CniError(CNI_INCOMPATIBLE_VERSION, `incompatible CNI version ${JSON.stringify(v)}`, `supported versions: ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  return v;
}

/** The VERSION command's answer. */
export function versionResult(inputVersion: unknown): { cniVersion: string; supportedVersions: string[] } {
  return {
    cniVersion: typeof inputVersion === 'string' && inputVersion !== '' ? inputVersion : DEFAULT_VERSION,
    supportedVersions: [...SUPPORTED_VERSIONS],
  };
}
