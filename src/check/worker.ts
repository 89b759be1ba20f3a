/**
 * A checker worker thread: owns one partition of the state space (src/check/partition.ts) and exchanges each
 * level's successors with its peers over direct MessagePorts; the main thread only says "next level", "stop"
 * and asks for parent links and coverage.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { invariantsFor } from '../../spec/invariants.ts';
import { Partition } from './partition.ts';
import type { FromWorker, LevelReport, PeerMessage, ToWorker, WorkerInit } from './protocol.ts';

const CHUNK = 2000;

const data = workerData as WorkerInit & { ports: Array<MessagePort | null> };
const port = parentPort as MessagePort;
const part = new Partition(data.profile, data.bound, invariantsFor(data.profile, data.invariants), data.index, data.parts, { coverage: data.coverage });
const peers = data.ports;
let level = 0;
let stopRequested = false;
const inbox = new Map<number, { items: PeerMessage['items'][]; finished: number }>();
let wake: (() => void) | undefined;

const post = (m: FromWorker) => port.postMessage(m);

for (const p of peers) {
  if (!p) continue;
  p.on('message', (m: PeerMessage) => {
    const box = inbox.get(m.level) ?? { items: [], finished: 0 };
    if (m.items.length) box.items.push(m.items);
    if (m.last) box.finished++;
    inbox.set(m.level, box);
    wake?.();
  });
}

function report(stopped: boolean): LevelReport {
  const s = part.stats();
  return {
    index: data.index,
    depth: s.depth,
    newStates: part.frontierSize,
    states: s.states,
    edges: s.edges,
    selfLoops: s.selfLoops,
    deadlocks: s.deadlocks,
    orphanPins: s.orphanPins,
    ...(part.deadlock ? { deadlock: part.deadlock } : {}),
    violations: [...part.violations.values()],
    stopped,
    heapUsed: getHeapStatistics().used_heap_size,
    frontier: part.frontierSize,
  };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

const timing = { expand: 0, exchange: 0, commit: 0, sent: 0 };
async function runLevel(): Promise<void> {
  const mine = level;
  let t = performance.now();
  let stopped = false;
  let sliceEnd = performance.now() + 50;
  let lastProgress = performance.now();
  for (;;) {
    const done = part.expand(() => stopRequested || performance.now() > sliceEnd);
    if (done) break;
    if (stopRequested) {
      stopped = true;
      break;
    }
    const now = performance.now();
    if (now - lastProgress > 500) {
      lastProgress = now;
      post({ t: 'progress', index: data.index, edges: part.edges, states: part.table.size, pending: part.pendingSize, heapUsed: getHeapStatistics().used_heap_size });
    }
    await tick();
    sliceEnd = performance.now() + 50;
  }
  timing.expand += performance.now() - t; t = performance.now();
  // Hand every peer its share (possibly nothing) so that no one waits forever, even when stopping.
  peers.forEach((p, i) => {
    if (!p) return;
    const items = part.takeOutbox(i);
    timing.sent += items.length;
    for (let k = 0; k < items.length; k += CHUNK) p.postMessage({ level: mine, from: data.index, items: items.slice(k, k + CHUNK), last: false } satisfies PeerMessage);
    p.postMessage({ level: mine, from: data.index, items: [], last: true } satisfies PeerMessage);
  });
  const expected = peers.filter(Boolean).length;
  for (;;) {
    const box = inbox.get(mine);
    if ((box?.finished ?? 0) >= expected) break;
    await new Promise<void>((r) => { wake = r; });
    wake = undefined;
  }
  timing.exchange += performance.now() - t; t = performance.now();
  for (const items of inbox.get(mine)?.items ?? []) part.receive(items);
  inbox.delete(mine);
  part.commit();
  timing.commit += performance.now() - t;
  if (process.env.GMEM_CHECK_TIMING) console.error(`worker ${data.index} level ${mine}`, JSON.stringify(timing));
  level++;
  post({ t: 'level', report: report(stopped || stopRequested) });
}

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'level':
      runLevel().catch((e: unknown) => post({ t: 'error', message: (e as Error).stack ?? String(e) }));
      break;
    case 'stop':
      stopRequested = true;
      break;
    case 'parents':
      post({ t: 'parents', id: m.id, links: m.fps.map(([lo, hi]) => part.parentOf(lo, hi) ?? null) });
      break;
    case 'coverage':
      post({ t: 'coverage', id: m.id, coverage: part.coverage() });
      break;
    case 'exit':
      for (const p of peers) p?.close();
      port.close();
      break;
  }
});

try {
  part.start();
  post({ t: 'ready', index: data.index, report: report(false) });
} catch (e) {
  post({ t: 'error', message: (e as Error).stack ?? String(e) });
}
