import { describe, expect, it } from 'vitest';
import { asCompletion, foldCompletions, seenEnough, shownBy } from '../../lib/task/completions';

const at = (minute: number) => `2026-05-01T12:${String(minute).padStart(2, '0')}:00.000Z`;
const ok = (minute: number) => ({ scheduledFor: at(minute), status: 'success' as const });
const failed = (minute: number, error = 'boom') => ({
  scheduledFor: at(minute),
  status: 'failed' as const,
  error,
});

describe('completion bookkeeping (checkpoint + runs since it)', () => {
  it('counts started final runs and dead-lettered failures, not runs skipped or canceled before they started', () => {
    expect(asCompletion({ scheduledFor: at(1), status: 'success', startedAt: at(1) })).toMatchObject({
      status: 'success',
    });
    expect(asCompletion({ scheduledFor: at(1), status: 'canceled' })).toBeUndefined();
    expect(asCompletion({ scheduledFor: at(1), status: 'canceled', startedAt: at(1) })?.status).toBe(
      'canceled',
    );
    expect(asCompletion({ scheduledFor: at(1), status: 'failed', error: 'dead-lettered' })?.error).toBe(
      'dead-lettered',
    );
    expect(asCompletion({ scheduledFor: at(1), status: 'started', startedAt: at(1) })).toBeUndefined();
    // Only a failure carries its error into lastRunError.
    expect(
      asCompletion({ scheduledFor: at(1), status: 'canceled', startedAt: at(1), error: 'x' })?.error,
    ).toBe(undefined);
  });

  it('a checkpoint shows a repeat of its outcome, not a change of status or error', () => {
    const checkpoint = foldCompletions({}, [ok(1)]);
    expect(shownBy(checkpoint, ok(5))).toBe(true);
    expect(shownBy(checkpoint, failed(5))).toBe(false);
    const failing = foldCompletions({}, [failed(1)]);
    expect(shownBy(failing, failed(2))).toBe(true);
    expect(shownBy(failing, failed(2, 'another error'))).toBe(false);
    expect(shownBy({}, ok(1))).toBe(false);
  });

  it('an older completion is shown only when its own outcome field is already past it', () => {
    const checkpoint = foldCompletions({}, [ok(3), failed(5)]);
    expect(shownBy(checkpoint, ok(2))).toBe(true);
    expect(shownBy(checkpoint, failed(4))).toBe(true);
    expect(shownBy(foldCompletions({}, [failed(5)]), ok(2))).toBe(false);
  });

  it('folds runs in time order: later scheduledFor wins, a tie goes to the later finish', () => {
    const folded = foldCompletions({}, [
      { ...failed(2), finishedAt: at(9) },
      ok(1),
      { ...ok(2), finishedAt: at(3) },
    ]);
    expect(folded).toEqual({
      latestCompleted: at(2),
      latestSuccess: at(2),
      latestFailure: at(2),
      lastRunStatus: 'failed',
      lastRunError: 'boom',
    });
  });

  it('never moves a field backward', () => {
    const checkpoint = foldCompletions({}, [ok(10)]);
    expect(foldCompletions(checkpoint, [failed(4)])).toEqual({
      latestCompleted: at(10),
      latestSuccess: at(10),
      latestFailure: at(4),
      lastRunStatus: 'success',
    });
  });

  it('a reader stops once it has a run of the checkpoint status older than the newest run', () => {
    const checkpoint = foldCompletions({}, [ok(1)]);
    expect(seenEnough(checkpoint, [], at(9))).toBe(false);
    expect(seenEnough(checkpoint, [ok(9)], at(9))).toBe(false);
    expect(seenEnough(checkpoint, [ok(9)], at(8))).toBe(true);
    expect(seenEnough(checkpoint, [failed(9)], at(8))).toBe(false);
    expect(seenEnough(checkpoint, [failed(9), ok(8)], at(7))).toBe(true);
  });
});
