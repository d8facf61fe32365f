import { startEtcd, type EtcdServer } from './etcd-server';

describe('etcd test server helper', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('starts, restarts on the same data and compacts', async () => {
    const rev0 = await etcd.revision();
    await etcd.restart();
    expect(await etcd.revision()).toBe(rev0);
    await etcd.compact(rev0);
  });
});
