// The record of a running lab, kept in <run dir>/state.json and rewritten after every
// step of `up`, so `down` can remove a half-built lab: the namespaces it created, the
// FRR instance directories, and every process it started (pid + start time, also as
// <run dir>/nodes/<node>/<name>.pid for scripts).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface LabProcess {
  node: string;
  ns: string;
  /** Daemon name: zebra, bgpd, bfdd, staticd, bird, etcd, agent. */
  name: string;
  pid: number;
  startTime: string;
  log: string;
  argv: string[];
}

export interface LabState {
  version: 1;
  name: string;
  file: string;
  runDir: string;
  startedAt: string;
  options: { agents: boolean };
  namespaces: string[];
  frrInstances: string[];
  processes: LabProcess[];
  /** BIRD control sockets by node, FRR instance names by node: how `status` reaches the ToR. */
  birdSockets: Record<string, string>;
  warnings: string[];
  complete: boolean;
}

export const stateFile = (runDir: string): string => join(runDir, 'state.json');

export function readState(runDir: string): LabState | undefined {
  const f = stateFile(runDir);
  if (!existsSync(f)) return undefined;
  try {
    const s = JSON.parse(readFileSync(f, 'utf8')) as LabState;
    return s.version === 1 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the state atomically (temp file + rename), and one pid file per process. */
export function writeState(s: LabState): void {
  mkdirSync(s.runDir, { recursive: true });
  const f = stateFile(s.runDir);
  writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${f}.tmp`, f);
  for (const p of s.processes) {
    const pf = join(s.runDir, 'nodes', p.node, `${p.name}.pid`);
    mkdirSync(dirname(pf), { recursive: true });
    writeFileSync(pf, `${p.pid}\n`);
  }
}
