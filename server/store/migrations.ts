/**
 * The storage format: a version number under `formatKey()`, checked and
 * brought up to date at start, before the server reads or writes anything else.
 *
 * A migration moves a KV from one format to the next. Several nodes may start
 * at once on one KV, so a migration must be safe to run twice: each node runs
 * the steps it finds missing, and the version moves on with a check that it
 * did not change meanwhile.
 */

import type { Logger } from "../log.ts";
import { formatKey } from "./keys.ts";
import { retryLocked } from "./retry.ts";

/** The storage format this server reads and writes. */
export const FORMAT_VERSION = 1;

/** One step from format `from` to `from + 1`. */
export interface Migration {
  from: number;
  /** What it changes, for the log. */
  description: string;
  run(kv: Deno.Kv, logger: Logger): Promise<void>;
}

/** The steps from every older format to `FORMAT_VERSION`, oldest first. */
export const MIGRATIONS: readonly Migration[] = [];

/** Options of `migrate()`; the format and the steps are this server's by default. */
export interface MigrateOptions {
  logger: Logger;
  version?: number;
  migrations?: readonly Migration[];
}

/** What `migrate()` found and left. */
export interface MigrateResult {
  /** The format found; null for an empty KV. */
  from: number | null;
  to: number;
}

async function holdsData(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: [] }, { limit: 1 })) return true;
  return false;
}

/**
 * Brings `kv` to the current format. An empty KV is stamped with it; one
 * written before formats were versioned is format 1. Throws a `RangeError`
 * for a format newer than this server's, or one it has no migration from.
 */
export async function migrate(kv: Deno.Kv, options: MigrateOptions): Promise<MigrateResult> {
  const target = options.version ?? FORMAT_VERSION;
  const migrations = options.migrations ?? MIGRATIONS;
  // Undefined until the first read: what the KV held before this start.
  let from: number | null | undefined;
  while (true) {
    const entry = await kv.get<unknown>(formatKey());
    let version = entry.value;
    if (version === null) {
      const empty = !(await holdsData(kv));
      if (from === undefined) from = empty ? null : 1;
      version = empty ? target : 1;
      const { ok } = await retryLocked(() =>
        kv.atomic().check(entry).set(formatKey(), version).commit()
      );
      if (!ok) continue; // Another node stamped it first: read what it wrote.
    }
    if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
      throw new TypeError(`Cannot read storage format "${String(version)}": not a format version`);
    }
    if (from === undefined) from = version;
    if (version === target) return { from, to: version };
    if (version > target) {
      throw new RangeError(
        `Cannot use storage format ${version}: this server knows formats up to ${target}; run a newer server`,
      );
    }
    const step = migrations.find((m) => m.from === version);
    if (!step) {
      throw new RangeError(
        `Cannot migrate storage format ${version}: no migration to ${version + 1}`,
      );
    }
    options.logger.warn(
      { event: "migration", from: version, to: version + 1 },
      `Migrating storage: ${step.description}`,
    );
    await step.run(kv, options.logger);
    const current = await kv.get<unknown>(formatKey());
    if (current.value === version) {
      await retryLocked(() => kv.atomic().check(current).set(formatKey(), version + 1).commit());
    }
  }
}
