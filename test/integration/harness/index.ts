/** Public surface of the integration harness (import from here in tests). */
export { Lab, type AddHostOptions } from './lab';
export { Host, type Family, type KernelRoute, type HostSpawnOptions } from './host';
export { run, spawnTracked, sleep, ExecError, type ExecOptions, type ExecResult, type ProcessHandle, type SpawnOptions } from './exec';
export { waitFor, WaitTimeoutError, type WaitForOptions } from './wait-for';
export { cleanupStale, type StaleCleanupReport } from './stale';
export { tcpExt, parseTcpExt } from './netstat';
export * from './daemon-types';
export { BirdDaemon, startBird, BIRD_SUPPORTS_2_OCTET_ONLY } from './bird';
export { GobgpDaemon, startGobgp, GOBGP_SUPPORTS_2_OCTET_ONLY } from './gobgp';
export { FrrDaemon, startFrr, FRR_SUPPORTS_2_OCTET_ONLY } from './frr';
