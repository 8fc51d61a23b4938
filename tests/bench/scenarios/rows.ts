/**
 * Rows: what one KV row costs the writer on this disk. Messages between 200
 * users (random pairs, as in the paced scenarios) go to a fresh KV file in
 * commits of 1, 4 and 16, one commit after another, with the rows a message
 * writes in storage format 5 (the message and its two conversation counters),
 * with the message row alone, and with a delivered mark beside them: a row of
 * its own per mark (format 5), or 128 marks packed into one row. A least-squares
 * line through the three commit sizes splits a commit's time into a fixed part
 * and a part per message; the differences between layouts give each row's
 * price, and the writer's busy time at the paced rate follows.
 */

import { join } from "node:path";
import type { Message } from "../../../server/protocol.ts";
import { messageKey, receiptKey, receivedKey, sentKey } from "../../../server/store/keys.ts";
import type { ScenarioOptions, ScenarioResult, ScenarioTools } from "../results.ts";
import { Samples } from "../results.ts";
import { fmt } from "../stats.ts";
import { measured, target, TARGETS } from "../targets.ts";

/**
 * What a message writes: its row alone; with its two conversation counters
 * (storage format 5's rows); and with a delivered mark too, a row of its own
 * (format 5) or packed with others into one row.
 */
export type RowLayout = "message" | "counters" | "mark-row" | "marks-packed";

/** The layouts, in the order they run. */
export const LAYOUTS: readonly RowLayout[] = ["message", "counters", "mark-row", "marks-packed"];

/** Messages per commit of the three measured sizes. */
export const COMMIT_SIZES = [1, 4, 16] as const;

/** Marks packed into one row by the `marks-packed` layout. */
export const MARKS_PER_ROW = 128;

/** The paced scenarios' rate, and the messages per commit the latency scenario's writer makes. */
const PACED_RATE = 2000;
const PACED_BATCH = 2.5;

const USERS = 200;

/** Mean ms per commit of `size` messages in `layout`, on a fresh KV file in `dir`. */
export async function commitMs(
  dir: string,
  layout: RowLayout,
  size: number,
  messages: number,
): Promise<number> {
  const path = join(dir, `${layout}-${size}-${crypto.randomUUID()}.kv`);
  const kv = await Deno.openKv(path);
  try {
    const users = Array.from({ length: USERS }, () => crypto.randomUUID());
    const packed: unknown[] = [];
    let packedRows = 0;
    let seq = 0;
    let commits = 0;
    const started = performance.now();
    for (let sent = 0; sent < messages;) {
      const op = kv.atomic();
      for (let i = 0; i < size && sent < messages; i++, sent++) {
        const from = users[Math.floor(Math.random() * USERS)];
        let to = users[Math.floor(Math.random() * (USERS - 1))];
        if (to === from) to = users[USERS - 1];
        const id = `${Date.now().toString(36)}${(seq++).toString(36).padStart(6, "0")}`;
        const message: Message = {
          id,
          from,
          to,
          content: `r ${sent} ${performance.now().toFixed(3)}`,
          timestamp: Date.now(),
          clientId: crypto.randomUUID(),
        };
        op.set(messageKey(from, to, id), message);
        if (layout === "message") continue;
        op.sum(sentKey(from, to), 1n).sum(receivedKey(to, from), 1n);
        if (layout === "mark-row") op.set(receiptKey(from, to, "delivered"), id);
        if (layout === "marks-packed") {
          packed.push([from, to, id]);
          if (packed.length === MARKS_PER_ROW) {
            op.set(["bench_marks", ++packedRows], packed.splice(0));
          }
        }
      }
      const { ok } = await op.commit();
      if (!ok) throw new Error(`A commit of ${size} messages (${layout}) failed`);
      commits++;
    }
    return (performance.now() - started) / commits;
  } finally {
    kv.close();
    await Deno.remove(path).catch(() => {});
  }
}

/** The least-squares line `ms = fixed + perMessage * size` through the measured points. */
export function commitLine(points: { size: number; ms: number }[]): {
  fixedMs: number;
  perMessageMs: number;
} {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.size, 0) / n;
  const my = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.size - mx) ** 2, 0);
  if (sxx === 0) throw new RangeError("Cannot fit a line through commits of a single size");
  const sxy = points.reduce((s, p) => s + (p.size - mx) * (p.ms - my), 0);
  const perMessageMs = sxy / sxx;
  return { fixedMs: my - perMessageMs * mx, perMessageMs };
}

/** What a KV row costs the writer: a commit's fixed part and each layout's part per message. */
export async function rows(
  { runs, quick, dir }: ScenarioOptions & {
    /** Where the KV files go (default: the runner's temporary folder). */
    dir?: string;
  },
  { runner, progress }: Partial<Pick<ScenarioTools, "runner">> & Pick<ScenarioTools, "progress">,
): Promise<ScenarioResult> {
  const messages = quick ? 1000 : 6000;
  const samples = new Samples();
  dir ??= join(await runner!.tempKv("rows"), "..");
  for (let rep = 1; rep <= runs; rep++) {
    const perMessage = {} as Record<RowLayout, number>;
    const fixedPart = {} as Record<RowLayout, number>;
    // Layouts take turns within a repetition, so a slow minute hits them all.
    for (const layout of rep % 2 === 1 ? LAYOUTS : [...LAYOUTS].reverse()) {
      progress.status(`rows ${layout} ${rep}/${runs}`);
      const points = [];
      for (const size of COMMIT_SIZES) {
        points.push({ size, ms: await commitMs(dir, layout, size, messages) });
      }
      const line = commitLine(points);
      perMessage[layout] = line.perMessageMs * 1000;
      fixedPart[layout] = line.fixedMs * 1000;
    }
    for (const layout of LAYOUTS) {
      samples.push(`${layout}: µs per message`, perMessage[layout]);
      samples.push(`${layout}: µs per commit, fixed`, fixedPart[layout]);
    }
    const { message, counters, "mark-row": markRow, "marks-packed": marksPacked } = perMessage;
    samples.push("two counter rows: µs per message", counters - message);
    samples.push("delivered mark, a row each: µs per mark", markRow - counters);
    samples.push(`delivered mark, ${MARKS_PER_ROW} in a row: µs per mark`, marksPacked - counters);
    const fixed = fixedPart.counters;
    // The writer's busy time at the paced rate, in commits of 2.5 messages: % of each second.
    const busy = (us: number) => (PACED_RATE * (us + fixed / PACED_BATCH)) / 1e4;
    samples.push("writer busy % at 2,000/s: message and counters", busy(counters));
    samples.push("writer busy % at 2,000/s: with a mark row each", busy(markRow));
    progress.line(
      `rows ${rep}/${runs}: a commit ${fmt(fixed)} µs fixed; per message ${
        fmt(message)
      } µs (message row), ${fmt(counters)} µs (with counters), +${
        fmt(markRow - counters)
      } µs (a mark row), +${
        fmt(marksPacked - counters)
      } µs (marks packed); the writer busy at 2,000/s ${
        fmt(busy(counters))
      }% (message and counters), ${fmt(busy(markRow))}% (with marks)`,
    );
  }
  const f = samples.spreads();
  return {
    runs: [],
    figures: f,
    targets: [
      target(TARGETS.rowsPerMessage, measured(f["counters: µs per message"]), {
        detail: `message row alone ${fmt(f["message: µs per message"].median)} µs, a commit ${
          fmt(f["counters: µs per commit, fixed"].median)
        } µs fixed`,
      }),
      target(TARGETS.rowsMarkRow, measured(f["delivered mark, a row each: µs per mark"]), {
        detail: `${MARKS_PER_ROW} in a row: ${
          fmt(f[`delivered mark, ${MARKS_PER_ROW} in a row: µs per mark`].median)
        } µs`,
      }),
      target(
        TARGETS.rowsWriterBusy,
        measured(f["writer busy % at 2,000/s: message and counters"]),
        {
          detail: `with a mark row each ${
            fmt(f["writer busy % at 2,000/s: with a mark row each"].median)
          }`,
        },
      ),
    ],
    skipped: {},
  };
}
