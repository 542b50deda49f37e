// Direct intent-store writes for the agent tests and benchmark, run INSIDE the compute
// namespace (`ip netns exec NS node store-tool.js ENDPOINTS CMD JSON`), where the lab's
// etcd listens on loopback. Prints one JSON line. Commands:
//   allocate {portId, network?, tenant?}       one FIP from the pool (the store's CAS allocation)
//   bulk {ports: [{id, fixedIp}], fips: [{id, address, portId}], batch?}
//                                              ports then FIPs, `batch` objects per transaction
//   range {ports?: {from, count}, fips?: {from, count, portFrom?}, batch?, network?}
//                                              generated objects: port vm-i (fixed IP portIp(i)),
//                                              FIP f-k (address rangeFipAddress(k)) on port vm-(portFrom+k-from)
//   delete {kind, ids: [...]}                  deletes, 40 per transaction
//   count {kind}                               number of objects of a kind
import { openEtcdStore, type TxnOp } from '../../store/index.js';
import { portIp, rangeFipAddress } from './lab.js';

async function main(): Promise<void> {
  const [endpoints, cmd, json] = process.argv.slice(2);
  if (!endpoints || !cmd) throw new Error('usage: store-tool ENDPOINTS CMD [JSON]');
  const arg = JSON.parse(json ?? '{}') as Record<string, any>;
  const store = await openEtcdStore({ endpoints: endpoints.split(',') });
  try {
    let out: unknown;
    switch (cmd) {
      case 'allocate': {
        const s = await store.allocateFloatingIp({ network: arg.network ?? 'ext', tenant: arg.tenant ?? 't1', portId: arg.portId ?? null });
        out = { id: s.id, address: s.value.address, revision: s.modRevision };
        break;
      }
      case 'bulk': {
        const batch: number = arg.batch ?? 40;
        let revision = 0;
        const write = async (ops: TxnOp[]): Promise<void> => {
          for (let i = 0; i < ops.length; i += batch) revision = (await store.txn(ops.slice(i, i + batch))).revision;
        };
        await write((arg.ports ?? []).map((p: { id: string; fixedIp: string }) => ({
          op: 'put', kind: 'port', value: { id: p.id, tenant: arg.tenant ?? 't1', fixedIp: p.fixedIp, chassis: arg.chassis ?? 'compute1', interfaceName: arg.iface ?? 'tap-vm1' },
        })));
        await write((arg.fips ?? []).map((f: { id: string; address: string; portId: string }) => ({
          op: 'put', kind: 'floatingip', value: { id: f.id, address: f.address, network: arg.network ?? 'ext', tenant: arg.tenant ?? 't1', portId: f.portId },
        })));
        out = { revision };
        break;
      }
      case 'range': {
        const batch: number = arg.batch ?? 40;
        let revision = 0;
        const write = async (ops: TxnOp[]): Promise<void> => {
          for (let i = 0; i < ops.length; i += batch) revision = (await store.txn(ops.slice(i, i + batch))).revision;
        };
        const p = arg.ports as { from: number; count: number } | undefined;
        if (p) {
          await write(Array.from({ length: p.count }, (_, j) => ({
            op: 'put' as const, kind: 'port' as const, value: { id: `vm-${p.from + j}`, tenant: arg.tenant ?? 't1', fixedIp: portIp(p.from + j), chassis: 'compute1', interfaceName: 'tap-vm1' },
          })));
        }
        const f = arg.fips as { from: number; count: number; portFrom?: number } | undefined;
        if (f) {
          await write(Array.from({ length: f.count }, (_, j) => ({
            op: 'put' as const, kind: 'floatingip' as const,
            value: { id: `f-${f.from + j}`, address: rangeFipAddress(f.from + j), network: arg.network ?? 'ext', tenant: arg.tenant ?? 't1', portId: `vm-${(f.portFrom ?? f.from) + j}` },
          })));
        }
        out = { revision };
        break;
      }
      case 'delete': {
        let revision = 0;
        const ids: string[] = arg.ids;
        for (let i = 0; i < ids.length; i += 40) {
          revision = (await store.txn(ids.slice(i, i + 40).map((id) => ({ op: 'delete' as const, kind: arg.kind, id })))).revision;
        }
        out = { revision };
        break;
      }
      case 'count':
        out = { count: (await store.list(arg.kind)).items.length };
        break;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await store.close();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  process.stderr.write(`store-tool: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
