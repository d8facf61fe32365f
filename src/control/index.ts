export * from './types';
export { ControlServer, type ControlProvider } from './server';
export { ControlClient } from './client';
