/** Next-hop resolution: which BGP next hops the kernel's own routes reach. */
export { NextHopTable, type ResolvingRoute } from './table';
export { KernelNextHops, type KernelNextHopsOptions } from './kernel-nexthops';
