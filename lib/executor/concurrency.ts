import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { RunQueue } from '../queue/run-queue';
import type { Run, RunMessage } from '../run/model';
import type { Lease, LeaseStore, Slot } from '../store/lease-store';
import type { RunStore } from '../store/run-store';
import type { Task } from '../task/model';

export interface ConcurrencyGateDeps {
  runs: RunStore;
  leases: LeaseStore;
  queue: RunQueue;
  logger: Logger;
  /** How long a slot lives without a heartbeat; also how long a requeued run may wait unseen. */
  claimTtlMs: number;
}

/**
 * A lease (whether this run had to be requeued to get it: it then has a waiter marker;
 * and whether a released slot was handed to it, so it holds the slot under the slot's
 * token), or why it waits (and whether older runs wait before it).
 */
export type Admission =
  | { lease: Lease; requeued: boolean; handedOver: boolean }
  | { waiting: string; behind: boolean; running: number };

/** How many markers one look at the waiters reads (stale ones are skipped and deleted). */
const WAITER_PAGE = 5;
/**
 * A woken run is not woken again this soon: its message is on its way. However many
 * executors see a free slot with a waiter before it, the waiter gets one more message
 * per quiet period, not one per executor.
 */
const WAKE_QUIET_MS = 5_000;

/**
 * Who may start a run of a task with a `concurrency` limit, and in which order.
 *
 * - A run starts only holding one of the task's lease slots.
 * - Runs that wait have a marker; a run never takes a free slot while an older run
 *   (by scheduledFor: run IDs sort by it) waits, and a released (or reclaimed) slot
 *   hands over to the oldest waiters by sending their messages again at once.
 * - A slot whose holder stopped heartbeating is reclaimed only after the holder's run
 *   is moved back to `scheduled` (waiting): the store never shows more than
 *   `concurrency` runs `started`.
 */
export class ConcurrencyGate {
  constructor(private readonly deps: ConcurrencyGateDeps) {}

  /**
   * The oldest runs still waiting (at most `count`), older than `before` when given.
   * Markers of runs that moved on are deleted.
   */
  private async oldestWaiters(
    taskID: string,
    count: number,
    { before, holders }: { before?: string | undefined; holders?: ReadonlySet<string> } = {},
  ): Promise<Run[]> {
    const { deps } = this;
    const found: Run[] = [];
    let after: string | undefined;
    for (;;) {
      const waiters = await deps.leases.waiters(taskID, { limit: WAITER_PAGE, afterRunID: after });
      for (const { runID, marker } of waiters) {
        if (before !== undefined && runID >= before) return found;
        // A slot was handed to it already: its wake is on its way.
        if (holders?.has(runID)) continue;
        const run = await deps.runs.get(taskID, runID);
        if (run?.status === 'scheduled') {
          found.push(run);
          if (found.length >= count) return found;
        } else {
          await deps.leases.removeWaiter(taskID, runID, marker);
        }
      }
      if (waiters.length < WAITER_PAGE) return found;
      after = waiters.at(-1)?.runID;
    }
  }

  async oldestWaiter(taskID: string, before?: string): Promise<Run | undefined> {
    return (await this.oldestWaiters(taskID, 1, { before }))[0];
  }

  /** Wakes a waiting run unless it was woken within the quiet period; true when it sent. */
  private async wakeOnce(run: Run, at: number): Promise<boolean> {
    if (!(await this.deps.leases.markWoken(run.taskID, run.id, at, WAKE_QUIET_MS))) return false;
    await this.wake(run);
    return true;
  }

  /** Sends a waiting run's message again, due at once. */
  private async wake(run: Run): Promise<void> {
    const message: RunMessage = {
      taskID: run.taskID,
      runID: run.id,
      scheduledFor: run.scheduledFor,
      kind: run.kind,
      attempt: run.attempt,
      revision: run.revision,
      waits: 0,
    };
    await this.deps.queue.enqueueOne({ message, delaySeconds: 0 });
  }

  /**
   * A slot whose holder died: its run goes back to waiting first, then the slot is freed.
   * A run someone asked to stop (a cancel, or `overlap: replace`) is ended instead: its
   * executor died mid-cancel, and running it again would take the slot from its replacement.
   */
  private async reclaim(task: Task, slot: Slot, at: number): Promise<boolean> {
    const { deps } = this;
    if ((await deps.runs.get(task.id, slot.runID))?.cancelRequested) {
      await deps.runs.abandon(
        task.id,
        slot.runID,
        at,
        'run canceled: its executor stopped before it could stop it',
      );
      await deps.leases.clearExpired(task.id, slot.slot, slot.token, at);
      return false;
    }
    const requeued = await deps.runs.requeueStalled(task.id, slot.runID, slot.token, {
      now: at,
      openAt: at + deps.claimTtlMs,
      logLine: 'the executor running this run stopped; it waits for a concurrency slot again',
    });
    if (requeued) {
      await deps.leases.addWaiter(task.id, slot.runID);
      deps.logger.warn('requeued a run whose executor stopped holding a concurrency slot', {
        taskID: task.id,
        runID: slot.runID,
      });
    }
    await deps.leases.clearExpired(task.id, slot.slot, slot.token, at);
    return requeued;
  }

  /** A lease for `message`'s run, or why it must wait. */
  async admit(task: Task, message: RunMessage, token: string, at: number): Promise<Admission> {
    const { deps } = this;
    const limit = task.concurrency ?? Number.POSITIVE_INFINITY;
    let running = 0;
    let requeued = false;
    // A few rounds: a reclaimed slot or a lost race means looking again.
    for (let round = 0; round < 4; round++) {
      // The slots first: a run woken by a hand-over holds one already and looks no further.
      const slots = await deps.leases.slots(task.id);
      const live = slots.filter((s) => s.expiresAtMs >= at);
      const handed = live.find((s) => s.runID === message.runID);
      // A released slot was handed to this run: it holds it already, under the slot's token.
      if (handed) {
        const { slot, token: heldBy } = handed;
        return {
          lease: { taskID: task.id, slot, token: heldBy, runID: message.runID },
          requeued,
          handedOver: true,
        };
      }
      running = live.length;
      const older = await this.oldestWaiter(task.id, message.runID);
      if (older) {
        // A free slot the oldest waiter has not taken: lost with an executor that died
        // between freeing it and waking anyone; wake it, once per quiet period. A waiter
        // that holds a handed-over slot is on its way and is not woken again.
        const holds = live.some((s) => s.runID === older.id);
        if (running < limit && !holds) await this.wakeOnce(older, at);
        return { waiting: describeWait(running, limit, true), behind: true, running };
      }
      const stalled = slots.filter((s) => s.expiresAtMs < at);
      if (stalled.length > 0) {
        const moved = await Promise.all(stalled.map((slot) => this.reclaim(task, slot, at)));
        // This run's own earlier claim, from an executor that died: it resumes now.
        if (stalled.some((slot, i) => moved[i] && slot.runID === message.runID)) requeued = true;
        continue;
      }
      if (running >= limit) return { waiting: describeWait(running, limit, false), behind: false, running };
      const lease = await this.takeFreeSlot(task, live, message.runID, token, at);
      if (lease) return { lease, requeued, handedOver: false };
    }
    return { waiting: describeWait(running, limit, false), behind: false, running };
  }

  /**
   * Tries one free slot, chosen at random so racing executors spread out. A lost race costs a
   * failed conditional write (billed); the next round's look shows whether any is still
   * free, which is cheaper than trying the others blind when a burst of runs arrives.
   */
  private async takeFreeSlot(
    task: Task,
    live: Slot[],
    runID: string,
    token: string,
    at: number,
  ): Promise<Lease | undefined> {
    const limit = task.concurrency ?? Number.POSITIVE_INFINITY;
    const held = new Set(live.map((s) => s.slot));
    const free = Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !held.has(slot));
    const slot = free[Math.floor(Math.random() * free.length)];
    if (slot === undefined) return undefined;
    return this.deps.leases.take(task.id, slot, { runID, token }, this.deps.claimTtlMs, at);
  }

  /**
   * The oldest live holder (by scheduledFor) whose run started, other than `runID`: whom
   * `replace` cancels. A slot handed to a waiting run that has not claimed it yet is
   * passed over: that run never started, and replacing it would skip it unrun.
   */
  async oldestHolder(task: Task, runID: string, at: number): Promise<Slot | undefined> {
    const live = (await this.deps.leases.slots(task.id)).filter(
      (s) => s.expiresAtMs >= at && s.runID !== runID,
    );
    for (const slot of live.sort((a, b) => a.runID.localeCompare(b.runID))) {
      if ((await this.deps.runs.get(task.id, slot.runID))?.status === 'started') return slot;
    }
    return undefined;
  }

  /** Whether a slot looks free right now (a run that just began to wait checks this once). */
  async hasFreeSlot(task: Task, at: number): Promise<boolean> {
    const slots = await this.deps.leases.slots(task.id);
    return slots.filter((s) => s.expiresAtMs >= at).length < (task.concurrency ?? Number.POSITIVE_INFINITY);
  }

  /**
   * Gives the slot back. With runs waiting, it goes straight to the oldest one that holds
   * no slot yet, in the one write that frees it (so no newer run takes it meanwhile and
   * nobody else wakes that run), and that run is woken; other free slots (a holder that
   * died) wake the next waiters, who take them on arrival. With none waiting, the slot is
   * deleted and the waiters are looked at once more: a run that began to wait after the
   * first look checks for a free slot after writing its marker, so one of the two sees
   * the other (if this one does, it takes the slot for that run).
   */
  async release(task: Task, lease: Lease, at: number): Promise<void> {
    const { deps } = this;
    const limit = task.concurrency ?? 1;
    const others = (await deps.leases.slots(task.id)).filter(
      (s) => s.expiresAtMs >= at && s.slot !== lease.slot,
    );
    const holders = new Set(others.map((s) => s.runID));
    const free = Math.max(1, limit - others.length);
    const [next, ...more] = await this.oldestWaiters(task.id, free, { holders });
    if (next) {
      const to = { runID: next.id, token: randomUUID() };
      if (!(await deps.leases.take(task.id, lease.slot, to, deps.claimTtlMs, at, lease.token))) return;
      await this.wake(next);
    } else {
      if (!(await deps.leases.release(lease))) return;
      const [late, ...after] = await this.oldestWaiters(task.id, free, { holders });
      // A run began to wait meanwhile: the slot is taken for it, so it need not race newer runs.
      const to = { runID: late?.id ?? '', token: randomUUID() };
      if (late && (await deps.leases.take(task.id, lease.slot, to, deps.claimTtlMs, at))) {
        await this.wake(late);
      } else if (late) {
        after.unshift(late);
      }
      more.push(...after);
    }
    for (const waiter of more) {
      // Marked, so executors that see the free slot meanwhile leave the hand-over to this wake.
      await deps.leases.markWoken(task.id, waiter.id, at, 0);
      await this.wake(waiter);
    }
  }
}

export function createConcurrencyGate(deps: ConcurrencyGateDeps): ConcurrencyGate {
  return new ConcurrencyGate(deps);
}

const describeWait = (running: number, limit: number, older: boolean) =>
  `waiting for a concurrency slot: ${running} of ${limit} running${older ? ', older runs go first' : ''}`;
