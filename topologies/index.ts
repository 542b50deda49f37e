// Public surface of topologies/: the containerlab topologies' netns runner and the
// failover probe.
//   runLab(args)   `edgeflow lab up|down|status [--topology F] [--no-agents] [--json]`
//   runProbe(args) `edgeflow probe send|echo …` (UDP, 1,000 packets/s, loss and gaps)
//   labUp/labDown/labStatus, loadPlan, loadTopology: the same, for tests and scripts
export { runLab, LAB_USAGE } from './runner/command.js';
export { labUp, labDown, labStatus, formatStatus, loadPlan, labProblems, type LabOptions, type LabStatus } from './runner/lab.js';
export { loadTopology, parseTopology, type ClabTopology, type ClabNode, type ClabLink } from './runner/topology.js';
export { planLab, nsOf, NS_PREFIX, MGMT_NS, type LabPlan, type DaemonSpec } from './runner/plan.js';
export { readState, type LabState, type LabProcess } from './runner/state.js';
export { resolveTopologyFile, runDirOf, repoRoot } from './runner/paths.js';
export { runProbe, PROBE_USAGE } from './probe/command.js';
export { analyze, formatReport, type ProbeReport, type Reply } from './probe/stats.js';
