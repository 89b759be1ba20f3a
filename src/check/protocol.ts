/** Messages between the checker's main thread and its worker threads (src/check/worker.ts). */
import type { Bound } from '../../spec/explore/bound.ts';
import type { Profile } from '../../spec/profile.ts';
import type { PackedBatch } from './candidateCodec.ts';
import type { Coverage, DeadlockCandidate, ViolationCandidate } from './partition.ts';

export interface WorkerInit {
  profile: Profile;
  bound: Bound;
  invariants: string[];
  index: number;
  parts: number;
  coverage: boolean;
  symmetry: boolean;
}

export interface LevelReport {
  index: number;
  /** Depth of the new frontier. */
  depth: number;
  newStates: number;
  states: number;
  edges: number;
  selfLoops: number;
  deadlocks: number;
  /** Quiescent states that keep a pin whose mapping is gone (see partition.ts quiescent). */
  orphanPins: number;
  deadlock?: DeadlockCandidate;
  violations: ViolationCandidate[];
  /** The level was cut short (stop requested). */
  stopped: boolean;
  heapUsed: number;
  frontier: number;
  /** The successor cache so far (src/check/packed/successors.ts): lookups that hit, missed, and moves stepped directly. */
  cache: CacheCounts;
}

export interface CacheCounts {
  hits: number;
  misses: number;
  direct: number;
}

export type ToWorker =
  | { t: 'level' }
  | { t: 'stop' }
  | { t: 'parents'; id: number; fps: Array<[number, number]> }
  | { t: 'coverage'; id: number }
  | { t: 'exit' };

export type FromWorker =
  | { t: 'ready'; index: number; report: LevelReport }
  | { t: 'level'; report: LevelReport }
  | { t: 'progress'; index: number; edges: number; states: number; pending: number; heapUsed: number }
  | { t: 'parents'; id: number; links: Array<{ plo: number; phi: number; ev: number; depth: number } | null> }
  | { t: 'coverage'; id: number; coverage: Coverage }
  | { t: 'error'; message: string };

/**
 * Between workers: one level's candidates for the receiver, in chunks packed into typed arrays
 * (candidateCodec.ts); `last` ends the sender's share.
 */
export interface PeerMessage {
  level: number;
  from: number;
  batch: PackedBatch;
  last: boolean;
}
