/**
 * Worker-thread entry of the kernel FIB (see fib-host.ts): the reconciler
 * and its netlink socket run here, so the kernel's route work inside
 * sendmsg and the reconciler's own work never hold up the main thread's BGP
 * sessions. Threads share the process's network namespace.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RouteDriver } from '../../netlink';
import { serveFib, type FibHostOptions, type FibPort } from './fib-host';
import { FibReconciler } from './fib-reconciler';

if (!parentPort) throw new Error('fib-worker must run in a worker thread');
// Compile the per-route paths now, while the daemon starts, not on the first table.
FibReconciler.warmUp();
const driver = RouteDriver.open();
serveFib(parentPort as unknown as FibPort, workerData as FibHostOptions, driver, () => {
  driver.close();
  process.exit(0);
});
