import type { Run } from './api';

const WIDTH = 640;
const HEIGHT = 160;
const PAD = 24;

/**
 * Recent runs over time, oldest on the left: a bar's height is the run's duration and
 * its colour its status. Runs that have not finished show as a short marker.
 */
export function RunChart({ runs, durationOf }: { runs: Run[]; durationOf(run: Run): number | undefined }) {
  const recent = [...runs].reverse().slice(-40);
  const counts = new Map<string, number>();
  for (const run of recent) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  const summary = recent.length
    ? `${recent.length} recent runs: ${[...counts].map(([status, n]) => `${n} ${status}`).join(', ')}`
    : 'No runs yet';
  const longest = Math.max(1, ...recent.map((r) => durationOf(r) ?? 0));
  const slot = (WIDTH - PAD * 2) / Math.max(recent.length, 10);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={summary}>
        <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH - PAD} y2={HEIGHT - PAD} class="axis" />
        <text x={PAD} y={14} class="label">
          {longest} ms
        </text>
        {recent.map((run, i) => {
          const ms = durationOf(run);
          const h = ms === undefined ? 4 : Math.max(2, (ms / longest) * (HEIGHT - PAD * 2));
          return (
            <rect
              key={run.id}
              class={`bar-${run.status}`}
              x={PAD + i * slot + 1}
              y={HEIGHT - PAD - h}
              width={Math.max(2, slot - 2)}
              height={h}
            >
              <title>
                {`${run.scheduledFor ?? ''} ${run.status}${ms === undefined ? '' : `, ${ms} ms`}`}
              </title>
            </rect>
          );
        })}
        {recent.length > 0 && (
          <text x={PAD} y={HEIGHT - 6} class="label">
            {new Date(recent[0]?.scheduledFor ?? '').toLocaleTimeString()}
          </text>
        )}
        {recent.length > 1 && (
          <text x={WIDTH - PAD} y={HEIGHT - 6} class="label" text-anchor="end">
            {new Date(recent[recent.length - 1]?.scheduledFor ?? '').toLocaleTimeString()}
          </text>
        )}
      </svg>
      <figcaption>{summary}. Bar height: duration; colour: status.</figcaption>
    </figure>
  );
}
