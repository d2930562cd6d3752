/**
 * Commands built by dynamodb-toolbox once per shape instead of once per call.
 *
 * The toolbox parses a command's item against the whole entity schema on every
 * `.params()` (a run item has 25 attributes; each costs it a parser whether the write
 * names it or not) and then checks the condition's paths against it too: about a
 * quarter of a millisecond per write, several times per run. For the run engine's
 * hot writes the expression only depends on the write's *shape* (which attributes,
 * which optional parts, which enum values), never on the values. So the toolbox
 * builds each shape once, with stand-ins where the values go, and checks it against
 * the schema then; every call after that copies the built params and puts its own
 * values where the stand-ins were.
 *
 * A stand-in is a string with NUL marks, an integer near `Number.MIN_SAFE_INTEGER`, or
 * for log lines a one-line log whose time is such a string; no constant of these
 * writes looks like one (a call's own values may hold anything: they are put in,
 * never searched). A value that decides the shape (an enum, whether an optional part
 * is there) must be part of the shape's name, not a slot, and a stand-in the schema
 * refuses fails the shape's first call. The tests compare every prepared shape with
 * the toolbox's own params for the same values.
 */

type Params = Record<string, unknown>;
type SlotType = 'string' | 'number' | 'log';
type LogLines = { time: string; message: string }[];
export type SlotValues<S extends Record<string, SlotType>> = {
  [K in keyof S]: S[K] extends 'string' ? string : S[K] extends 'number' ? number : LogLines;
};

/** Builds the params of one shape from a call's values. */
type Fill<S extends Record<string, SlotType>> = (values: SlotValues<S>) => unknown;

const MARK = '\u0000';
const FIRST_NUMBER = Number.MIN_SAFE_INTEGER;

/** A prepared command: the params for a shape and values; `fresh` builds them with the toolbox alone (for tests). */
export interface Prepared<S extends Record<string, SlotType>, Shape extends string> {
  (shape: Shape, values: SlotValues<S>): Params;
  fresh(shape: Shape, values: SlotValues<S>): Params;
}

export function prepare<S extends Record<string, SlotType>, Shape extends string>(
  slots: S,
  build: (values: SlotValues<S>, shape: Shape) => { params(): Params },
): Prepared<S, Shape> {
  const names = Object.keys(slots) as (keyof S & string)[];
  const standIns = Object.fromEntries(
    names.map((name, n) => [name, standIn(slots[name], n)]),
  ) as SlotValues<S>;
  const shapes = new Map<Shape, Fill<S>>();
  const fresh = (shape: Shape, values: SlotValues<S>) => {
    const { ToolboxItem: _parsed, ...params } = build(values, shape).params();
    return params;
  };
  const prepared = (shape: Shape, values: SlotValues<S>) => {
    let fill = shapes.get(shape);
    if (!fill) {
      fill = filler<S>(fresh(shape, standIns), names);
      shapes.set(shape, fill);
    }
    return fill(values) as Params;
  };
  return Object.assign(prepared, { fresh });
}

function standIn(type: SlotType | undefined, n: number) {
  const text = `${MARK}${n}${MARK}`;
  if (type === 'number') return FIRST_NUMBER + n;
  return type === 'log' ? [{ time: text, message: text }] : text;
}

/** The slot a one-line stand-in log stands for, if `list` is one. */
function logSlot(list: unknown[]): number | undefined {
  const [line, ...more] = list as { time?: unknown }[];
  const time = line?.time;
  if (more.length > 0 || typeof time !== 'string' || !time.startsWith(MARK)) return undefined;
  return Number(time.slice(1, -1));
}

/**
 * A function that rebuilds `template` with each stand-in replaced by the call's value.
 * It runs on every hot write, so the template's structure is resolved here, once: each
 * call only walks arrays of keys and slots.
 */
function filler<S extends Record<string, SlotType>>(template: unknown, names: (keyof S & string)[]): Fill<S> {
  if (typeof template === 'string') return stringFiller<S>(template, names);
  if (typeof template === 'number') {
    const slot = names[template - FIRST_NUMBER];
    if (!Number.isInteger(template) || slot === undefined) return () => template;
    return (values) => values[slot];
  }
  if (Array.isArray(template)) {
    const log = logSlot(template);
    const slot = log === undefined ? undefined : names[log];
    if (slot !== undefined) return (values) => values[slot];
    const items = template.map((item) => filler<S>(item, names));
    return (values) => items.map((item) => item(values));
  }
  if (template !== null && typeof template === 'object') {
    const keys = Object.keys(template);
    const fills = Object.values(template).map((value) => filler<S>(value, names));
    return (values) => {
      const out: Record<string, unknown> = {};
      keys.forEach((key, n) => {
        out[key] = fills[n]?.(values);
      });
      return out;
    };
  }
  return () => template;
}

function stringFiller<S extends Record<string, SlotType>>(
  template: string,
  names: (keyof S & string)[],
): Fill<S> {
  if (!template.includes(MARK)) return () => template;
  // Split on the marks: odd parts are slot numbers, even parts the text around them.
  const parts = template.split(MARK);
  const texts = parts.filter((_, n) => n % 2 === 0);
  const slots = parts.filter((_, n) => n % 2 === 1).map((part) => names[Number(part)] as keyof S);
  const [only] = slots;
  if (slots.length === 1 && only !== undefined && texts.join('') === '') {
    return (values) => String(values[only]);
  }
  return (values) => {
    let out = texts[0] ?? '';
    slots.forEach((slot, n) => {
      out += String(values[slot]) + (texts[n + 1] ?? '');
    });
    return out;
  };
}
