/**
 * The exploration engine: the one breadth-first search that every user of the state graph runs. The explorer
 * (explorer.ts: the graph generate selects tests from), the checker (src/check: invariants, counterexamples,
 * dead rules, in this thread or in worker-thread partitions), the diagrams' reachable view
 * (src/presentation/diagram/reachable.ts) and the diff's witness search over pairs of states
 * (src/presentation/diff/witness.ts) differ only in their model and in what they record.
 *
 * The engine owns what they share: the frontier, level by level; keying states through a store (exact keys, or
 * fingerprints); the state and depth limits; progress and interruption; and, when the search is partitioned
 * (Stern & Dill's parallel Murφ, TLC's distributed mode), handing successors to the partition that owns them.
 * The model (ExplorationModel) says what a state is, which events it offers and what an event does: symmetry
 * reduction lives there (a model may say an edge has the target of an earlier edge of the same state). What is
 * recorded (graph edges, coverage, invariant violations, diagram projections) plugs in as hooks, and the
 * machine observer passed to every transition is how coverage hears the machine transitions each step takes.
 *
 * Order. One partition keeps a state the moment it first reaches it, in BFS order, so ids are dense and
 * every edge knows its target. Several partitions keep the states of a level only when the level ends
 * (commit): a state may be reached from several partitions, and its owner keeps the path that comes first in
 * BFS order (shortest, then event by event), which is the one a single partition would have kept. So the
 * result never depends on the number of partitions or on message timing.
 */
import type { MachineObserver } from '../../machines/bridge.ts';

/**
 * The state space: where it starts, which events a state offers, what an event does, and a state's key (`K`: a
 * string, or whatever the store identifies states by, such as the checker's fingerprint).
 */
export interface ExplorationModel<N, E, T extends Move<N>, K = string> {
  initial(): N;
  /** The events of a state, in order; the engine then calls transition for each, in that order. */
  events(n: N): ArrayLike<E>;
  /** The index-th event of `n`; `machines` hears the machine transitions it takes. */
  transition(n: N, e: E, index: number, machines: MachineObserver | undefined): T;
  key(n: N): K;
  /** The state last keyed was kept as a new state (a key cache may remember its parts). */
  kept?(n: N): void;
}

export interface Move<N> {
  /** The state the event leads to: the source itself when nothing changed, undefined when it leads nowhere. */
  next: N | undefined;
  /** The target is that of this earlier event of the same state (symmetry: the same edge, moved). */
  sameTargetAs?: number;
}

/** A state the search keeps: its handle in the store, depth, and path (event indices, one char each) if tracked. */
export interface Kept<N, H> {
  handle: H;
  node: N;
  depth: number;
  path: string;
}

/** A successor found for a partition's next level (its own, or a peer's sent to it). */
export interface Candidate<N, I, H> {
  id: I;
  /** The state it was reached from (undefined: the initial state). */
  parent: H | undefined;
  event: number;
  path: string;
  node: N;
}

/**
 * Where the states are remembered. `I` is what a key becomes (the key itself, or a fingerprint); `H` is how a
 * kept state is referred to (an id, or the fingerprint).
 */
export interface StateStore<I, H, K = string> {
  readonly size: number;
  identify(key: K): I;
  /** The handle of a kept state. */
  find(id: I): H | undefined;
  /** Keep a new state reached from `parent` (undefined: the initial state) by its `event`-th event. */
  add(id: I, parent: H | undefined, event: number, depth: number): H;
  same(a: H, b: H): boolean;
  /** Partitioned searches: which partition owns a state, a string to collect candidates by. */
  owner?(id: I, parts: number): number;
  text?(id: I): string;
  /** Partitioned searches: states already handed to their owner (no need to send them again). */
  sentBefore?(id: I): boolean;
  markSent?(id: I): void;
}

/**
 * What became of an edge: `self` (back to its source), `known` (a state kept before), `new` (kept now), `pending`
 * (a candidate for the next level, this partition's or another's), `none` (the event leads nowhere), `dropped`
 * (a new state past the state limit).
 */
export type Fate = 'self' | 'known' | 'new' | 'pending' | 'none' | 'dropped';

export interface ExplorationHooks<N, E, T, H> {
  /** Hears every machine transition the steps take. */
  machines?: MachineObserver;
  /** A state was kept (the initial one included). */
  state?(k: Kept<N, H>): void;
  /** An edge, after its fate is known; `to` is the target's handle when this partition knows it. */
  edge?(from: Kept<N, H>, e: E, index: number, t: T, fate: Fate, to: H | undefined): void;
  /** Every event of a state was tried; `moves` of them led to another state. */
  expanded?(k: Kept<N, H>, moves: number): void;
}

export interface SearchOptions {
  /** One partition: keep no more states than this (the search goes on, dropping edges to new states: incomplete). */
  maxStates?: number;
  /** Expand no state at this depth or deeper. */
  maxDepth?: number;
  /** Track each state's path (a partitioned search always does). */
  paths?: boolean;
  /** This search is partition `index` of `parts`. */
  partition?: { index: number; parts: number };
  /** Called after every `every`-th expanded state; false stops the search (incomplete: interrupted). */
  progress?: { every: number; report(states: number, edges: number): boolean | undefined };
}

/** Paths compare by length, then event by event: the order in which a sequential BFS first reaches things. */
export function lessPath(a: string, b: string): boolean {
  return a.length !== b.length ? a.length < b.length : a < b;
}

/** lessPath(prefix + the char of event, b), without building the string. */
export function lessPathThen(prefix: string, event: number, b: string): boolean {
  if (prefix.length + 1 !== b.length) return prefix.length + 1 < b.length;
  for (let i = 0; i < prefix.length; i++) {
    const x = prefix.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < y;
  }
  return event < b.charCodeAt(prefix.length);
}

export class Search<N, E, T extends Move<N>, I, H, K = string> {
  /** Depth of the states on the frontier (-1 before start). */
  depth = -1;
  edges = 0;
  selfLoops = 0;
  expandedStates = 0;
  complete = true;
  stoppedBecause: string | undefined;
  private frontier: Array<Kept<N, H>> = [];
  private cursor = 0;
  /** One partition: the states kept while expanding this level, the next frontier. */
  private fresh: Array<Kept<N, H>> = [];
  /** Several partitions: this level's candidates for this partition, and for each peer. */
  private pending = new Map<string, Candidate<N, I, H>>();
  private readonly outbox: Array<Map<string, Candidate<N, I, H>>>;
  private readonly index: number;
  private readonly parts: number;
  private readonly paths: boolean;
  private readonly maxStates: number;
  private readonly maxDepth: number;

  constructor(
    private readonly model: ExplorationModel<N, E, T, K>,
    private readonly store: StateStore<I, H, K>,
    private readonly hooks: ExplorationHooks<N, E, T, H>,
    private readonly options: SearchOptions = {},
  ) {
    this.index = options.partition?.index ?? 0;
    this.parts = options.partition?.parts ?? 1;
    if (this.parts > 1 && !(store.owner && store.text && store.sentBefore && store.markSent)) {
      throw new Error('internal: a partitioned search needs a store that assigns owners');
    }
    this.paths = this.parts > 1 || options.paths === true;
    this.maxStates = options.maxStates ?? Number.POSITIVE_INFINITY;
    this.maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
    this.outbox = Array.from({ length: this.parts }, () => new Map());
  }

  get frontierSize(): number {
    return this.frontier.length;
  }

  get remaining(): number {
    return this.frontier.length - this.cursor;
  }

  /** Candidates waiting for the end of the level (several partitions). */
  get pendingSize(): number {
    return this.pending.size;
  }

  /** Seed the search with the initial state (only its owner keeps it). */
  start(): void {
    const init = this.model.initial();
    const id = this.store.identify(this.model.key(init));
    if (this.parts > 1) {
      if ((this.store.owner as NonNullable<StateStore<I, H, K>['owner']>)(id, this.parts) === this.index) {
        this.pending.set((this.store.text as NonNullable<StateStore<I, H, K>['text']>)(id), {
          id,
          parent: undefined,
          event: -1,
          path: '',
          node: init,
        });
      }
    } else {
      const handle = this.store.add(id, undefined, -1, 0);
      this.model.kept?.(init);
      const k: Kept<N, H> = { handle, node: init, depth: 0, path: '' };
      this.fresh.push(k);
      this.hooks.state?.(k);
    }
    this.commit();
  }

  /** Expand frontier states until the level is done (true) or `stop` says so, checked between states. */
  expand(stop?: () => boolean): boolean {
    while (this.cursor < this.frontier.length) {
      if (stop?.()) return false;
      const k = this.frontier[this.cursor++] as Kept<N, H>;
      if (k.depth < this.maxDepth) this.expandOne(k);
      const p = this.options.progress;
      if (this.expandedStates++ % (p?.every ?? 1) === 0 && p?.report(this.store.size + this.pending.size, this.edges) === false) {
        this.complete = false;
        this.stoppedBecause = 'interrupted';
        return false;
      }
    }
    return true;
  }

  private expandOne(k: Kept<N, H>): void {
    const { model, store, hooks } = this;
    const n = k.node;
    const evs = model.events(n);
    const targets: Array<H | undefined> = [];
    const fates: Fate[] = [];
    let moves = 0;
    for (let i = 0; i < evs.length; i++) {
      const e = evs[i] as E;
      const t = model.transition(n, e, i, hooks.machines);
      let fate: Fate;
      let to: H | undefined;
      if (t.next === undefined) fate = 'none';
      else if (t.sameTargetAs !== undefined) {
        fate = fates[t.sameTargetAs] === 'dropped' ? 'dropped' : 'known';
        to = targets[t.sameTargetAs];
        if (fate === 'known' && to !== undefined && store.same(to, k.handle)) fate = 'self';
      } else if (t.next === n) {
        fate = 'self';
        to = k.handle;
      } else {
        const id = store.identify(model.key(t.next));
        to = store.find(id);
        if (to !== undefined) fate = store.same(to, k.handle) ? 'self' : 'known';
        else if (this.parts > 1) fate = this.offer(id, k, i, t.next);
        else if (store.size >= this.maxStates) {
          fate = 'dropped';
          this.complete = false;
          this.stoppedBecause ??= `state limit ${this.maxStates} reached`;
        } else {
          fate = 'new';
          to = store.add(id, k.handle, i, k.depth + 1);
          model.kept?.(t.next);
          const kept: Kept<N, H> = {
            handle: to,
            node: t.next,
            depth: k.depth + 1,
            path: this.paths ? k.path + String.fromCharCode(i) : '',
          };
          this.fresh.push(kept);
          hooks.state?.(kept);
        }
      }
      targets[i] = to;
      fates[i] = fate;
      if (fate !== 'dropped') this.edges++;
      if (fate === 'self') this.selfLoops++;
      else if (fate !== 'none') moves++;
      hooks.edge?.(k, e, i, t, fate, to);
    }
    hooks.expanded?.(k, moves);
  }

  /** Several partitions: a successor not kept here becomes a candidate for its owner (or is known to be one). */
  private offer(id: I, from: Kept<N, H>, event: number, node: N): Fate {
    const store = this.store as Required<StateStore<I, H, K>>;
    const owner = store.owner(id, this.parts);
    if (owner !== this.index && store.sentBefore(id)) return 'pending';
    // A candidate of this partition's is kept for now (its parts are worth remembering: its successors share them).
    if (owner === this.index) this.model.kept?.(node);
    const into = owner === this.index ? this.pending : (this.outbox[owner] as Map<string, Candidate<N, I, H>>);
    const text = store.text(id);
    const old = into.get(text);
    // Most edges reach a candidate already offered by a path that comes first: nothing to build for them.
    if (old && !lessPathThen(from.path, event, old.path)) return 'pending';
    into.set(text, { id, parent: from.handle, event, path: from.path + String.fromCharCode(event), node });
    return 'pending';
  }

  /** The candidates for partition `peer` found so far this level; they count as sent from now on. */
  takeOutbox(peer: number): Array<Candidate<N, I, H>> {
    const box = this.outbox[peer] as Map<string, Candidate<N, I, H>>;
    const out = [...box.values()];
    for (const c of out) this.store.markSent?.(c.id);
    box.clear();
    return out;
  }

  /** Candidates a peer found for this partition. */
  receive(cands: ReadonlyArray<Candidate<N, I, H>>): void {
    const text = this.store.text as NonNullable<StateStore<I, H, K>['text']>;
    for (const c of cands) if (this.store.find(c.id) === undefined) offerCandidate(this.pending, text(c.id), c);
  }

  /** End the level: its new states (kept now, with several partitions, in BFS order) form the next frontier. */
  commit(): number {
    const d = this.depth + 1;
    if (this.parts > 1) {
      const cands = [...this.pending.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      this.pending = new Map();
      for (const c of cands) {
        if (this.store.find(c.id) !== undefined) continue;
        const handle = this.store.add(c.id, c.parent, c.event, d);
        const k: Kept<N, H> = { handle, node: c.node, depth: d, path: c.path };
        this.fresh.push(k);
        this.hooks.state?.(k);
      }
    }
    this.frontier = this.fresh;
    this.fresh = [];
    this.cursor = 0;
    this.depth = d;
    return this.frontier.length;
  }

  /** Run a one-partition search to the end (or to its limit or interruption); partitions are run by their driver. */
  run(): this {
    if (this.parts > 1) throw new Error('internal: run() explores one partition; partitions are run level by level by their driver');
    if (this.depth < 0) this.start();
    while (this.frontier.length) {
      if (!this.expand()) break;
      this.commit();
    }
    return this;
  }
}

function offerCandidate<N, I, H>(into: Map<string, Candidate<N, I, H>>, text: string, c: Candidate<N, I, H>): void {
  const old = into.get(text);
  if (!old || lessPath(c.path, old.path)) into.set(text, c);
}

/** Exact keys: every state keyed by its full key, ids dense in the order states were kept. */
export class ExactStore implements StateStore<string, number> {
  private readonly ids = new Map<string, number>();
  get size(): number {
    return this.ids.size;
  }
  identify(key: string): string {
    return key;
  }
  find(key: string): number | undefined {
    return this.ids.get(key);
  }
  add(key: string): number {
    const id = this.ids.size;
    this.ids.set(key, id);
    return id;
  }
  same(a: number, b: number): boolean {
    return a === b;
  }
}
