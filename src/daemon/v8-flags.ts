/**
 * V8 settings of tartan-node, applied before any other module loads (main.ts
 * imports this first), so every function compiled afterwards sees them.
 *
 * --no-lazy-feedback-allocation: V8 normally gives a function its type
 * feedback vector only after some calls, and optimises only what has
 * feedback. The first full table a peer sends is the daemon's hottest code
 * and runs before anything is warm; with feedback from the first call the
 * import path is optimised sooner. Measured on 1M routes from a cold start:
 * 0.60 s -> 0.47 s in-process (BENCHMARKS.md, bench/rib); the cost is the
 * feedback vectors of functions called only once or twice (well under 1 MB).
 *
 * The young-generation cap (--max-semi-space-size) cannot be set here: the
 * heap exists before any script runs, so it stays on the command line.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-lazy-feedback-allocation');
