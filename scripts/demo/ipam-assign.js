#!/usr/bin/env node
// Demo helper, standing in for the Calico CNI plugin's IPAM call (Tartan has no
// CNI plugin yet): claim one IPv4 address for a pod on a node, with Calico's
// block affinity (the node's /26 from the IPPool, claimed on first use), and
// print it. Uses the IPAM library from dist/ (npm run build).
//
//   node scripts/demo/ipam-assign.js ETCD_ENDPOINT NODE NAMESPACE POD
//
// The handle is k8s-pod-network.NAMESPACE.POD (Calico uses the container ID);
// the allocation records node, namespace and pod as Calico's CNI does.
'use strict';
const { Datastore } = require('../../dist/datastore');
const { Ipam } = require('../../dist/ipam');

async function main() {
  const [endpoint, node, namespace, pod] = process.argv.slice(2);
  if (!endpoint || !node || !namespace || !pod) {
    process.stderr.write('usage: ipam-assign.js ETCD_ENDPOINT NODE NAMESPACE POD\n');
    process.exit(2);
  }
  const ds = Datastore.connect({ endpoints: [endpoint], requestTimeoutMs: 5000 });
  try {
    const got = await new Ipam(ds).autoAssign({
      node,
      handleId: `k8s-pod-network.${namespace}.${pod}`,
      num4: 1,
      attrs: { node, namespace, pod },
    });
    if (got.ipv4.length !== 1) throw new Error(`no IPv4 address assigned to ${namespace}/${pod} on ${node}`);
    process.stdout.write(`${got.ipv4[0]}\n`);
  } finally {
    ds.close();
  }
}

main().catch((e) => {
  process.stderr.write(`ipam-assign: ${e && e.message ? e.message : e}\n`);
  process.exit(1);
});
