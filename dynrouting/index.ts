// dynrouting: pure functions from intent (store objects) to what one chassis must do —
// the BGP routes its speaker originates and the NAT state its kernel holds — plus the
// make-before-break and hot-standby placement both are derived from (issue 5).
//
//   const intent = intentFromObjects((await store.snapshot()).items);
//   const routes = routesForChassis(intent, 'compute-1');         // sorted RouteSpec[]
//   const { add, remove } = diffRoutes(speaker.localRoutes(), routes);
//   const nat = planNat(intent, 'compute-1', { previousZones, previous });
//   await natManager.reconcile(nat.desired);
//   for (const u of statusUpdates(intent, 'compute-1')) … write activeChassis (CAS) …
//
// Central mode: routesForCentral(intent) on the one central speaker.
export {
  DEFAULT_SETTINGS, IntentIndex, intentFromObjects,
  type DynroutingOptions, type EffectiveSettings, type Intent,
} from './intent.js';
export {
  fipRole, fipsOfChassis, placeFip, statusUpdates,
  type FipAssignment, type FipPlacement, type FipRole, type StatusUpdate,
} from './placement.js';
export {
  compareRoutes, sortRoutes, localTenants, nextHopFor, planCentralRoutes, planChassisRoutes, routesForCentral, routesForChassis,
  type PlannedRoute, type RouteClass, type RoutePlan, type Skipped,
} from './routes.js';
export { canonicalRoute, diffRoutes, sameRoute, type RouteDiff } from './diff.js';
export { assignZones, fnv1a, planNat, type NatPlan, type NatPlanOptions } from './nat.js';
