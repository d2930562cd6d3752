import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Command, CommanderError, Option } from 'commander';
import { createClient, type LogEvent, RotaApiError, type RotaClient, type Run, type Task } from './client';
import { duration, table } from './output';

/** The checkout's version: the CLI ships with the API it drives. */
export const CLI_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * `rota`: the task commands of `influx task`, against Rota's HTTP API (local mode or a
 * deployment). A table by default, the API's JSON with `--json`.
 */
export function buildProgram(): Command {
  const program = new Command('rota')
    .description("Rota's command line: tasks, runs and their logs, over Rota's HTTP API")
    .version(CLI_VERSION, '-V, --version', 'print the version')
    .addOption(
      new Option('--host <url>', 'Rota API base URL').env('ROTA_HOST').default('http://127.0.0.1:8080'),
    )
    .addOption(
      new Option('--token <token>', 'API token (sent as "Authorization: Token …")').env('ROTA_TOKEN'),
    )
    .option('--json', "print the API's JSON instead of a table", false)
    .showHelpAfterError()
    .configureOutput({
      // Commander's own usage errors read like the API's: "Error: …" on stderr.
      outputError: (text, write) => write(text.replace(/^error: /, 'Error: ')),
    });

  const task = program.command('task').description('manage tasks, their runs and their logs');

  task
    .command('create')
    .description('create a task from a JSON file, a Flux script, or flags')
    .requiredOption('--org <org>', 'the org (orgID) that owns the task')
    .option('--file <path>', 'a task JSON document (as POST /api/v2/tasks takes)')
    .option('--flux <script>', 'a Flux script with an "option task = {…}" block (give --url too)')
    .option('--name <name>', 'task name')
    .option('--every <duration>', 'run every duration, e.g. 10s or 1h30m')
    .option('--cron <expression>', 'run on a cron schedule, e.g. "*/5 * * * *"')
    .option('--timezone <zone>', 'IANA time zone for --cron')
    .option('--url <url>', 'HTTP target URL the task calls')
    .option('--method <method>', 'HTTP method for --url', 'POST')
    .option('--description <text>', 'task description')
    .option('--status <status>', 'active or inactive')
    .action(async (opts, cmd: Command) => {
      const body = await createBody(opts);
      printTasks(cmd, [await client(cmd).createTask(body)]);
    });

  task
    .command('list')
    .description("list an org's tasks")
    .requiredOption('--org <org>', 'the org (orgID)')
    .option('--name <name>', 'only tasks with this name')
    .option('--status <status>', 'only active or inactive tasks')
    .option('--limit <n>', 'at most this many (1-500)')
    .action(async (opts, cmd: Command) => {
      const page = await client(cmd).listTasks({
        orgID: opts.org,
        name: opts.name,
        status: opts.status,
        limit: opts.limit,
      });
      if (isJson(cmd)) return printJson(page);
      printTasks(cmd, page.tasks);
    });

  task
    .command('find')
    .description('show one task')
    .requiredOption('--id <id>', 'task ID')
    .action(async (opts, cmd: Command) => printTasks(cmd, [await client(cmd).findTask(opts.id)]));

  task
    .command('update')
    .description("change a task's status, schedule or target")
    .requiredOption('--id <id>', 'task ID')
    .option('--status <status>', 'active or inactive')
    .option('--name <name>', 'task name')
    .option('--description <text>', 'task description')
    .option('--every <duration>', 'new interval (replaces a cron schedule)')
    .option('--cron <expression>', 'new cron schedule (replaces an interval)')
    .option('--timezone <zone>', 'IANA time zone for the cron schedule')
    .option('--flux <script>', 'a new Flux script')
    .option('--url <url>', 'new HTTP target URL')
    .option('--method <method>', 'new HTTP method (with or without --url)')
    .option('--file <path>', 'a JSON patch document (as PATCH /api/v2/tasks/{id} takes)')
    .action(async (opts, cmd: Command) => {
      const api = client(cmd);
      const patch = opts.file ? await readJson(opts.file) : updateBody(opts);
      if (!opts.file && (opts.url !== undefined || opts.method !== undefined))
        patch.target = targetUpdate((await api.findTask(opts.id)).target, opts);
      if (Object.keys(patch).length === 0)
        throw new RotaApiError('nothing to update: give --status, --every, --cron, --url, --name or --file');
      printTasks(cmd, [await api.updateTask(opts.id, patch)]);
    });

  task
    .command('delete')
    .description('delete a task and its runs')
    .requiredOption('--id <id>', 'task ID')
    .action(async (opts, cmd: Command) => {
      await client(cmd).deleteTask(opts.id);
      if (isJson(cmd)) return printJson({ id: opts.id, deleted: true });
      process.stdout.write(`Deleted task ${opts.id}\n`);
    });

  const run = task
    .command('run')
    .description('start a run now (with --id), or list, retry and cancel runs')
    .option('--id <id>', 'task ID to run now')
    .option('--scheduled-for <time>', 'run for this instant (RFC 3339); a future one waits until then')
    .action(async (opts, cmd: Command) => {
      if (!opts.id) {
        cmd.outputHelp();
        throw new RotaApiError('give --id to run a task now, or a subcommand: list, retry, cancel');
      }
      const body = opts.scheduledFor ? { scheduledFor: opts.scheduledFor } : {};
      printRuns(cmd, [await client(cmd).runTask(opts.id, body)]);
    });

  run
    .command('list')
    .description("list a task's runs, newest first")
    .requiredOption('--task-id <id>', 'task ID')
    .option('--limit <n>', 'at most this many (1-500)')
    .option('--after-time <time>', 'only runs scheduled after this time (RFC 3339)')
    .option('--before-time <time>', 'only runs scheduled before this time (RFC 3339)')
    .action(async (opts, cmd: Command) => {
      const page = await client(cmd).listRuns(opts.taskId, {
        limit: opts.limit,
        afterTime: opts.afterTime,
        beforeTime: opts.beforeTime,
      });
      if (isJson(cmd)) return printJson(page);
      printRuns(cmd, page.runs);
    });

  run
    .command('retry')
    .description('run the same instant again, at once')
    .requiredOption('--task-id <id>', 'task ID')
    .requiredOption('--run-id <id>', 'run ID')
    .action(async (opts, cmd: Command) =>
      printRuns(cmd, [await client(cmd).retryRun(opts.taskId, opts.runId)]),
    );

  run
    .command('cancel')
    .description('cancel a queued, waiting or running run')
    .requiredOption('--task-id <id>', 'task ID')
    .requiredOption('--run-id <id>', 'run ID')
    .action(async (opts, cmd: Command) => {
      await client(cmd).cancelRun(opts.taskId, opts.runId);
      if (isJson(cmd)) return printJson({ taskID: opts.taskId, runID: opts.runId, canceled: true });
      process.stdout.write(`Canceled run ${opts.runId}\n`);
    });

  task
    .command('log')
    .description("a task's run logs")
    .command('list')
    .description("print a task's (or one run's) log lines")
    .requiredOption('--task-id <id>', 'task ID')
    .option('--run-id <id>', "only this run's log")
    .option(
      '--follow',
      'keep printing new lines (with --run-id: until the run ends; else until Ctrl-C)',
      false,
    )
    .option('--interval <seconds>', 'with --follow, how often to poll', '1')
    .action(async (opts, cmd: Command) => {
      const api = client(cmd);
      if (!opts.follow) {
        const { events } = await api.logs(opts.taskId, opts.runId);
        if (isJson(cmd)) return printJson({ events });
        return printLogs(cmd, events, true);
      }
      await followLogs(cmd, api, opts.taskId, opts.runId, Number(opts.interval) * 1000);
    });

  for (const command of [program, ...allSubcommands(program)]) command.helpCommand(false);
  return program;
}

function allSubcommands(command: Command): Command[] {
  return command.commands.flatMap((sub) => [sub, ...allSubcommands(sub)]);
}

function client(cmd: Command): RotaClient {
  const { host, token } = cmd.optsWithGlobals<{ host: string; token?: string }>();
  return createClient({ host, token });
}

function isJson(cmd: Command): boolean {
  return cmd.optsWithGlobals<{ json: boolean }>().json;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

interface TaskFlags {
  org: string;
  file?: string;
  flux?: string;
  name?: string;
  every?: string;
  cron?: string;
  timezone?: string;
  url?: string;
  method: string;
  description?: string;
  status?: string;
}

async function createBody(opts: TaskFlags): Promise<Record<string, unknown>> {
  const sources = [opts.file, opts.flux, opts.name].filter((s) => s !== undefined).length;
  if (sources !== 1)
    throw new RotaApiError('give exactly one of --file, --flux, or --name with --every/--cron and --url');
  if (opts.file) return { ...(await readJson(opts.file)), orgID: opts.org };
  const target = opts.url ? { target: { kind: 'http', url: opts.url, method: opts.method } } : {};
  const common = {
    orgID: opts.org,
    ...target,
    ...(opts.description !== undefined && { description: opts.description }),
    ...(opts.status !== undefined && { status: opts.status }),
  };
  if (opts.flux) return { ...common, flux: opts.flux };
  if (!opts.every && !opts.cron)
    throw new RotaApiError('--name needs a schedule: --every DURATION or --cron EXPRESSION');
  if (!opts.url) throw new RotaApiError('--name needs a target: --url URL');
  return {
    ...common,
    name: opts.name,
    ...(opts.every !== undefined && { every: opts.every }),
    ...(opts.cron !== undefined && { cron: opts.cron }),
    ...(opts.timezone !== undefined && { timezone: opts.timezone }),
  };
}

function updateBody(opts: Omit<TaskFlags, 'org' | 'file'>): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const field of ['status', 'name', 'description', 'every', 'cron', 'timezone', 'flux'] as const)
    if (opts[field] !== undefined) patch[field] = opts[field];
  return patch;
}

/**
 * A PATCH replaces the target: a new URL or method goes over the stored HTTP target, so
 * its headers and body stay (credentials come back `<redacted>`, which keeps the stored
 * value while the URL keeps its origin; the API says so when it moved).
 */
function targetUpdate(
  current: Task['target'],
  opts: { url?: string; method?: string },
): Record<string, unknown> {
  if (current?.kind === 'http')
    return { ...current, ...(opts.url && { url: opts.url }), ...(opts.method && { method: opts.method }) };
  if (!opts.url)
    throw new RotaApiError(
      `the task's target is ${current?.kind ?? 'missing'}: --method needs an HTTP target (give --url)`,
    );
  return { kind: 'http', url: opts.url, method: opts.method ?? 'POST' };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RotaApiError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw new Error('expected a JSON object');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new RotaApiError(`${path} is not a JSON object: ${(error as Error).message}`);
  }
}

function schedule(task: Task): string {
  if (task.every) return `every ${task.every}`;
  if (task.cron) return `cron ${task.cron}${task.timezone ? ` (${task.timezone})` : ''}`;
  return '';
}

function printTasks(cmd: Command, tasks: Task[]): void {
  if (isJson(cmd)) {
    printJson(tasks.length === 1 ? tasks[0] : tasks);
    return;
  }
  const rows = tasks.map((t) => [
    t.id,
    t.name,
    t.status,
    schedule(t),
    t.lastRunStatus,
    t.nextRunAt,
    t.target?.url ?? t.target?.kind,
  ]);
  process.stdout.write(
    `${table(['ID', 'Name', 'Status', 'Schedule', 'Last run', 'Next run', 'Target'], rows)}\n`,
  );
}

function printRuns(cmd: Command, runs: Run[]): void {
  if (isJson(cmd)) {
    printJson(runs.length === 1 ? runs[0] : runs);
    return;
  }
  const rows = runs.map((r) => [
    r.id,
    r.status,
    r.scheduledFor,
    r.startedAt,
    r.finishedAt,
    duration(r.startedAt, r.finishedAt),
    r.attempt === undefined ? '' : String(r.attempt),
  ]);
  process.stdout.write(
    `${table(['ID', 'Status', 'Scheduled for', 'Started', 'Finished', 'Duration', 'Attempt'], rows)}\n`,
  );
}

function printLogs(cmd: Command, events: LogEvent[], header: boolean): void {
  if (isJson(cmd)) {
    for (const event of events) process.stdout.write(`${JSON.stringify(event)}\n`);
    return;
  }
  const text = table(
    ['Time', 'Run ID', 'Message'],
    events.map((e) => [e.time, e.runID, e.message]),
  );
  const lines = text.split('\n');
  process.stdout.write(`${(header ? lines : lines.slice(1)).join('\n')}\n`);
}

const FINAL_RUN_STATUSES = new Set(['success', 'failed', 'canceled']);

/**
 * Polls the log and prints each line once. With a run, it stops when that run has
 * ended and its last lines are out; for a whole task it runs until interrupted.
 */
async function followLogs(
  cmd: Command,
  api: RotaClient,
  taskID: string,
  runID: string | undefined,
  everyMs: number,
) {
  const seen = new Set<string>();
  let printedHeader = false;
  for (;;) {
    const ended = runID ? FINAL_RUN_STATUSES.has((await api.findRun(taskID, runID)).status) : false;
    const { events } = await api.logs(taskID, runID);
    const fresh = events.filter((e) => {
      const key = `${e.runID}\u0000${e.time}\u0000${e.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (fresh.length > 0 || (!printedHeader && !isJson(cmd))) {
      printLogs(cmd, fresh, !printedHeader);
      printedHeader = true;
    }
    if (ended) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(100, everyMs)));
  }
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  for (const command of [program, ...allSubcommands(program)]) command.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`Error: ${message}\n`);
    return 1;
  }
}
