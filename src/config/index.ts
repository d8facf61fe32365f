export type { NodeConfig, PeerConfigEntry, OriginateEntry, LogConfig, LogLevel, LogFormat, ListenConfig, BgpTimersConfig } from './types';
export { ConfigError } from './errors';
export { loadConfigFile, parseConfig, validateConfig, DEFAULT_CONTROL_SOCKET, DEFAULT_BGP_PORT, DEFAULT_AS_NUMBER } from './load';
