import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

/**
 * The building blocks of the configuration schema (lib/config.ts, lib/auth/config.ts),
 * in zod/mini rather than zod: every function parses that schema at cold start, and
 * one that validates nothing else (event-publisher) then carries none of zod's classic
 * API, about 28 KB of its bundle (ADR 0021).
 */

// zod/mini loads no locale (the classic API does): without it, issues read "Invalid input".
z.config(en());

/** A setting that is unset, or trimmed, blank counting as unset. */
export const trimmedOrUnset = z.pipe(
  z.optional(z.string()),
  z.transform((v: string | undefined) => (v === undefined || v.trim() === '' ? undefined : v.trim())),
);

/** A non-empty string, or unset. */
export const nonEmpty = z.optional(z.string().check(z.minLength(1)));

/** A whole number from the environment, within bounds. */
export const boundedInt = (min: number, max: number) =>
  z.pipe(z.coerce.number(), z.int().check(z.minimum(min), z.maximum(max)));
