// Stand-alone entry until `edgeflow lab` / `edgeflow probe` are wired into cli/main.ts:
//   node dist/topologies/cli.js up|down|status [...]     (the lab runner)
//   node dist/topologies/cli.js probe send|echo [...]    (the failover probe)
import { runLab, runProbe } from './index.js';

const [first, ...rest] = process.argv.slice(2);
const code = first === 'probe' ? await runProbe(rest) : await runLab(first === undefined ? [] : [first, ...rest]);
process.exitCode = code;
