export { AdjRibIn, type RibRoute } from './adj-rib-in';
export { AttributeInterner, attributeKey, type RouteAttributes } from './route-attributes';
export { applyUpdate, type UpdateEffect } from './apply-update';
export { routeView, attributesView, formatAsPath } from './view';
