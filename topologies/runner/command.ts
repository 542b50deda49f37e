// `edgeflow lab up|down|status [--topology FILE|NAME] [--no-agents] [--json]`: the command
// line of the netns lab runner. Exit codes: 0 done/healthy, 1 failed or degraded,
// 2 usage, 3 status of a lab that is not up.
import { formatStatus, labDown, labStatus, labUp } from './lab.js';
import { resolveTopologyFile } from './paths.js';

export const LAB_USAGE = `usage: edgeflow lab up|down|status [--topology FILE|NAME] [--no-agents] [--json]

  up       build the topology with network namespaces ef-<node> and real daemons
           (FRR/BIRD, etcd, one edgeflow agent per compute); idempotent
  down     stop everything the lab started and delete its namespaces
  status   nodes, pids, and the ToR's BGP summary

  --topology   a .clab.yml file or a name under topologies/ (default frr-2computes)
  --no-agents  up: do not start the edgeflow agents
  --json       status: machine-readable output
`;

export async function runLab(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  let topology: string | undefined;
  let agents = true;
  let json = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--topology' || a === '-t') topology = rest[++i];
    else if (a.startsWith('--topology=')) topology = a.slice('--topology='.length);
    else if (a === '--no-agents') agents = false;
    else if (a === '--json') json = true;
    else {
      process.stderr.write(`edgeflow lab: unknown option ${a}\n${LAB_USAGE}`);
      return 2;
    }
  }
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(LAB_USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const file = resolveTopologyFile(topology);
  try {
    switch (cmd) {
      case 'up':
        await labUp(file, { agents });
        return 0;
      case 'down':
        await labDown(file);
        return 0;
      case 'status': {
        const s = await labStatus(file);
        process.stdout.write(json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
        return !s.up ? 3 : s.healthy ? 0 : 1;
      }
      default:
        process.stderr.write(`edgeflow lab: unknown command ${cmd}\n${LAB_USAGE}`);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`edgeflow lab ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}
