// Worker thread of DriftWorker (drift.ts): one NAT reader (own shell, own nftd helper),
// one drift check per message {id, model (JSON)}; {close: true} ends it.
import { parentPort, workerData } from 'node:worker_threads';
import { NatManager, shellRunner, type NatDesired } from '../nat/index.js';
import { natDrift, type DriftReaderOptions } from './drift.js';

const shell = shellRunner();
const reader = new NatManager({ runner: shell, ...(workerData as DriftReaderOptions), onWarning: () => undefined });
const port = parentPort!;

port.on('message', (m: { id: number; model: string } | { close: true }) => {
  if ('close' in m) {
    reader.close();
    shell.close();
    port.close();
    return;
  }
  natDrift(reader, JSON.parse(m.model) as NatDesired).then(
    (report) => port.postMessage({ id: m.id, report }),
    (err: Error) => port.postMessage({ id: m.id, error: err.message }),
  );
});
