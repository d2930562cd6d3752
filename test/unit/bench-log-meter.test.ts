import { describe, expect, it } from 'vitest';
import { LOG_EVENT_OVERHEAD_BYTES, LogMeter } from '../../bench/support/log-meter';

describe("the bench's CloudWatch Logs meter", () => {
  it('meters an INFO line as the deployed logger prints it: level, message and fields', async () => {
    const meter = new LogMeter();
    await meter.invocation(async () => meter.logger.info('run success', { runID: 'r1', lagMs: 12 }));
    expect(JSON.parse(meter.lines[0] ?? '{}')).toEqual({
      level: 'INFO',
      message: 'run success',
      runID: 'r1',
      lagMs: 12,
    });
  });

  it('meters a warning with the whole Lambda context and trace', async () => {
    const meter = new LogMeter();
    await meter.invocation(async () => meter.logger.warn('heartbeat failed', { runID: 'r1' }));
    const line = JSON.parse(meter.lines[0] ?? '{}');
    expect(line).toMatchObject({ level: 'WARN', message: 'heartbeat failed', runID: 'r1' });
    expect(line.function_name).toMatch(/^RotaStack-/);
    expect(line.function_request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(line.xray_trace_id).toBeTruthy();
  });

  it('drops what the deployed level drops', async () => {
    const meter = new LogMeter();
    await meter.invocation(async () => meter.logger.debug('run message handled', { runID: 'r1' }));
    expect(meter.lines.some((l) => l.includes('run message handled'))).toBe(false);
  });

  it("adds the invocation's EMF line only when a metric was recorded, and the runtime's three lines always", async () => {
    const idle = new LogMeter();
    await idle.invocation(async () => undefined);
    expect(idle.lines.map((l) => l.split(' ')[0])).toEqual(['START', 'END', 'REPORT']);

    const busy = new LogMeter();
    await busy.invocation(async () => {
      busy.scheduleLag(40);
      busy.scheduleLag(60);
    });
    const emf = JSON.parse(busy.lines[0] ?? '{}');
    expect(emf._aws.CloudWatchMetrics[0].Metrics[0].Name).toBe('ScheduleLag');
    expect(emf.ScheduleLag).toEqual([40, 60]);
    expect(busy.events).toBe(4);
  });

  it("keeps concurrent invocations' metrics apart, and their own bytes apart from the run lines", async () => {
    const meter = new LogMeter();
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = meter.invocation(async () => {
      meter.scheduleLag(10);
      await held;
    });
    await meter.invocation(async () => {
      meter.scheduleLag(20);
      meter.logger.info('run success', { runID: 'r2' });
    });
    release();
    await first;
    const emf = meter.lines.filter((l) => l.startsWith('{"_aws"')).map((l) => JSON.parse(l).ScheduleLag);
    expect(emf).toEqual([20, 10]);
    expect(meter.invocations).toBe(2);
    const runLine = meter.lines.find((l) => l.includes('run success')) ?? '';
    expect(meter.bytes - meter.invocationBytes).toBe(Buffer.byteLength(runLine) + LOG_EVENT_OVERHEAD_BYTES);
  });

  it('bills every event its 26 bytes of overhead on top of its UTF-8 bytes', async () => {
    const meter = new LogMeter();
    await meter.invocation(async () => meter.logger.info('é'));
    const utf8 = meter.lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
    expect(meter.bytes).toBe(utf8 + meter.events * LOG_EVENT_OVERHEAD_BYTES);
  });
});
