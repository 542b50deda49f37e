// The edgeflow command line: one entry, one subcommand per job.
import { runDecode, runEncode } from './codec.js';

const USAGE = `usage: edgeflow <command> [options]

commands:
  decode [--add-path FAMILY]... [--as2] [--extended-message]
                       hex BGP messages on stdin (one per line) -> NDJSON
  encode [same options] NDJSON on stdin -> hex lines
  speaker --config FILE [--graceful-restart]
                       run a BGP speaker with its REST API (YAML or JSON config);
                       --graceful-restart: this start is a restart (RFC 4724 R bit)
  agent --config FILE  run the per-compute agent (intent -> kernel NAT + BGP routes, REST API)
  lab up|down|status [--topology FILE]
                       the one-machine lab: containerlab topology built with netns
  probe send|echo ...  UDP failover probe (1,000 packets/s, loss and longest gap)
  ctl [--api URL] [--token T] [--json] <command>
                       operate a speaker or agent over its REST API (ctl help)
`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  decode: async () => runDecode,
  encode: async () => runEncode,
  ctl: async () => (await import('./ctl.js')).runCtl,
  speaker: async () => (await import('./speaker.js')).runSpeaker,
  agent: async () => (await import('./agent.js')).runAgent,
  lab: async () => (await import('../topologies/index.js')).runLab,
  probe: async () => (await import('../topologies/index.js')).runProbe,
};

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const load = COMMANDS[cmd];
  if (!load) {
    process.stderr.write(`edgeflow: unknown command "${cmd}"\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = await (await load())(rest);
}
