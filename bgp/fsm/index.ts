// bgp/fsm — one BGP session per neighbor: the RFC 4271 §8 state machine as a pure step
// function (fsm.ts), capability and hold-time negotiation from two OPENs (negotiate.ts),
// and the thin socket shell that runs them with an injected clock (session.ts).
export {
  step, initialState, secondConnectionState, transition, FSM_DEFAULTS, HISTORY_LIMIT, SESSION_STATES,
  type SessionState, type TimerName, type FsmEvent, type FsmEventType, type FsmAction, type FsmState, type FsmConfig,
  type StepResult, type Transition, type NotificationSpec, type DownInfo,
} from './fsm.js';
export {
  negotiate, buildOpen, collisionWinner, capabilitiesData, negotiatedJson, AS_TRANS,
  type Negotiated, type NegotiationResult, type CapabilityConfig, type CapabilityType, type OpenPolicy,
  type AddPathNegotiated, type GracefulRestartInfo,
} from './negotiate.js';
export {
  Session, systemClock, jitterMs,
  type SessionOptions, type SessionDeps, type SessionEvents, type SessionDownInfo, type SessionInfo, type SessionLogger,
  type Clock, type SocketLike, type ConnectOptions, type StopOptions, type LastError, type HistoryEntry,
  type MessageCounters, type MessageKind,
} from './session.js';
