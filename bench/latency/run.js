#!/usr/bin/env node
/**
 * Entry point of the cluster latency benchmark (see README.md):
 *
 *   npm run build && node bench/latency/run.js --n 200 --out /tmp/latency.json
 *
 * Uses bench/rib's require hook to load the TypeScript on the fly.
 */
'use strict';
require('../rib/ts-hook.js');
require('./main.ts');
