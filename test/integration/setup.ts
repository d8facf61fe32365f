// Integration tests start real daemons in network namespaces; sessions take
// seconds to come up, so the default 5 s per test is too short.
jest.setTimeout(120_000);
