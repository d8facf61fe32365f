#!/usr/bin/env node
/**
 * Entry point of the routing benchmark (see README.md):
 *
 *   npm run build && node bench/rib/run.js --n 100000,1000000 --daemons tartan,bird,frr,gobgp --repeat 3 --out /tmp/rib.json
 *
 * Installs the .ts require hook and runs main.ts; no build step of its own.
 */
'use strict';
require('./ts-hook.js');
require('./main.ts');
