// Run inside a lab namespace: an event socket (NetlinkMonitor) while N routes
// of protocol 201 are added. Prints "survived <events>" and exits 0, or dies.
const { NetlinkMonitor, RouteDriver } = require(process.argv[2]);
const n = Number(process.argv[3]);
const gateway = process.argv[4];
(async () => {
  const mon = NetlinkMonitor.open({ ref: false });
  let events = 0;
  mon.on(() => events++);
  const d = RouteDriver.open();
  const routes = function* () {
    for (let i = 0; i < n; i++) yield { family: 4, dst: `198.19.${(i >> 8) & 255}.${i & 255}/32`, table: 254, protocol: 201, type: 'unicast', scope: 'universe', metric: 32, nextHops: [{ gateway }] };
  };
  const r = await d.replace(routes());
  await new Promise((res) => setTimeout(res, 300));
  process.stdout.write(`survived ${r.ok} ${events}\n`);
  mon.close();
  d.close();
})();
