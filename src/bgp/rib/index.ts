export { RibEngine, FAMILY_WORDS, type FibSink, type NlriInput, type SourceInfo, type TargetInfo, type EngineOptions } from './engine';
export { attributeKey, type RouteAttributes } from './route-attributes';
export { attributesView, formatAsPath } from './view';
export { addressSortKey, ipv4ToNumber, type DecisionOptions } from './decision';
export { cidrFromKey, keyFromCidr } from './prefix-key';
