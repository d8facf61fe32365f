/** WorkloadEndpoints in the datastore, as the plugin needs them (absent is not an error). */
import { isTartanError } from '../errors';
import { RESOURCE_NOT_FOUND, type Datastore, type WorkloadEndpoint } from '../datastore';
import type { EndpointStore } from './plugin';

export function datastoreEndpoints(ds: Datastore): EndpointStore {
  return {
    async get(namespace, name) {
      try {
        return await ds.get('WorkloadEndpoint', name, namespace);
      } catch (e) {
        if (isTartanError(e, RESOURCE_NOT_FOUND)) return undefined;
        throw e;
      }
    },
    async apply(wep: WorkloadEndpoint) {
      await ds.apply(wep);
    },
    async delete(namespace, name, resourceVersion) {
      try {
        await ds.delete('WorkloadEndpoint', name, { namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) });
      } catch (e) {
        if (isTartanError(e, RESOURCE_NOT_FOUND)) return;
        throw e;
      }
    },
  };
}
