// Where things are: the repository root (found from this file, in src or dist), the
// topologies directory, the default topology, and the run directory of a lab.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The repository root: the nearest parent directory whose package.json is edgeflow's. */
export function repoRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'edgeflow') return (root = dir);
      } catch { /* keep looking */ }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the edgeflow repository root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const topologiesDir = (): string => join(repoRoot(), 'topologies');
export const DEFAULT_TOPOLOGY = 'frr-2computes';

/** A topology argument: a path to a file, or a bare name under topologies/ (`bird-2computes`). */
export function resolveTopologyFile(arg: string | undefined): string {
  const a = arg ?? DEFAULT_TOPOLOGY;
  if (existsSync(a)) return resolve(a);
  const named = join(topologiesDir(), a.endsWith('.clab.yml') ? a : `${a}.clab.yml`);
  return existsSync(named) ? named : resolve(a);
}

/** All labs keep their state under this directory (tmpfs, so a reboot forgets them as it forgets namespaces). */
export const RUN_BASE = process.env.EDGEFLOW_LAB_RUN_DIR ?? '/run/edgeflow-lab';
export const runDirOf = (labName: string): string => join(RUN_BASE, labName);
