/**
 * Name rules, after k8s `apimachinery/pkg/util/validation` as used by
 * Calico's validator (`nameRegex`, `namespaceRegex`, label key/value rules).
 */
import type { Check } from './schema';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);
const DNS1123_LABEL = new RegExp(`^${LABEL}$`);
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

export const dns1123Subdomain: Check = (value, path, problems) => {
  if (typeof value !== 'string' || value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    problems.push({
      path,
      message: `${JSON.stringify(value)} is not a valid name: lower-case letters, digits, "-" and "." only, starting and ending with a letter or digit, at most 253 characters`,
    });
  }
};

export const dns1123Label: Check = (value, path, problems) => {
  if (typeof value !== 'string' || value.length > 63 || !DNS1123_LABEL.test(value)) {
    problems.push({ path, message: `${JSON.stringify(value)} is not a valid namespace: lower-case letters, digits and "-", at most 63 characters` });
  }
};

/** A label key: `[prefix/]name`, prefix a DNS subdomain, name a qualified name of ≤63. */
export const labelKey: Check = (value, path, problems) => {
  const k = String(value);
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : undefined;
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  const ok =
    name.length <= 63 && QUALIFIED_NAME.test(name) && (prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix)));
  if (!ok) problems.push({ path, message: `${JSON.stringify(k)} is not a valid label key` });
};

export const labelValue: Check = (value, path, problems) => {
  if (typeof value !== 'string') return; // reported by stringMap
  if (value !== '' && (value.length > 63 || !QUALIFIED_NAME.test(value))) {
    problems.push({ path, message: `${JSON.stringify(value)} is not a valid label value (at most 63 letters, digits, "-", "_" or ".")` });
  }
};
