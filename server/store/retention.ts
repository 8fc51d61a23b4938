/**
 * Retention (`RETENTION_DAYS`): deleting the messages sent before a time, while
 * servers go on writing, with unread counts still right.
 *
 * A conversation's old messages go oldest first, `BATCH` to a commit. Unread is
 * `received` minus the read mark's `received` (keys.ts), so deleting a message
 * its recipient had not read must take it out of the count: the commit that
 * deletes such messages moves the recipient's read mark past them and adds
 * their number to its `received`, which leaves the counter alone. New messages
 * only add to the counter, so they never conflict with a sweep; the commit checks
 * both read marks, so a mark written meanwhile (`markRead()` counts the messages
 * after it) makes the batch be read and counted again, and that commit of
 * `markRead()`, which checks the mark too, is counted again in turn.
 *
 * Several nodes sharing a KV: one lease, `["meta", "retention"]`, lets one node
 * sweep at a time; the others skip their turn. Were two to sweep at once (a
 * lease run out mid-sweep), the mark checks keep them from counting a message
 * twice: the second commit of a batch finds its marks changed, or both computed
 * the same change of them.
 */

import type { Message } from "../protocol.ts";
import { firstMessageIdAt } from "../chat/ids.ts";
import {
  allMessagesPrefix,
  readKey,
  type ReadMark,
  receivedKey,
  retentionLeaseKey,
} from "./keys.ts";
import { retryLocked } from "./retry.ts";
import { keyParts } from "./scan.ts";

// Messages deleted per commit: about 100 bytes of key each, within 1,000 mutations and 80 KiB of keys.
const BATCH = 400;
// Commits of one conversation that may find a read mark changed before it is left for the next sweep.
const ATTEMPTS = 20;
// How long a lease holds; it is renewed while the sweep goes on.
const LEASE_MS = 10 * 60 * 1000;

/** What a sweep did. */
export interface RetentionResult {
  /** Messages deleted. */
  deleted: number;
  /** Conversations left for the next sweep: their read marks kept changing. */
  skipped: number;
}

/** The lease on the sweep: who holds it, until when (ms). */
interface Lease {
  holder: string;
  until: number;
}

/** Takes or renews the lease for `holder`; false when another holder has it. */
async function lease(kv: Deno.Kv, holder: string): Promise<boolean> {
  const entry = await kv.get<Lease>(retentionLeaseKey());
  const now = Date.now();
  if (entry.value && entry.value.holder !== holder && entry.value.until > now) return false;
  const { ok } = await retryLocked(() =>
    kv.atomic().check(entry)
      .set(retentionLeaseKey(), { holder, until: now + LEASE_MS } satisfies Lease, {
        expireIn: LEASE_MS,
      })
      .commit()
  );
  return ok;
}

async function release(kv: Deno.Kv, holder: string): Promise<void> {
  const entry = await kv.get<Lease>(retentionLeaseKey());
  if (entry.value?.holder !== holder) return;
  await retryLocked(() => kv.atomic().check(entry).delete(retentionLeaseKey()).commit());
}

/**
 * Deletes every message whose ID is older than `before` (ms: IDs begin with their time), as described
 * above. Null when another node holds the lease.
 */
export async function deleteMessagesBefore(
  kv: Deno.Kv,
  before: number,
): Promise<RetentionResult | null> {
  const holder = crypto.randomUUID();
  if (!(await lease(kv, holder))) return null;
  const result: RetentionResult = { deleted: 0, skipped: 0 };
  try {
    let renewAt = Date.now() + LEASE_MS / 2;
    for await (const pair of keyParts(kv, allMessagesPrefix())) {
      const users = typeof pair === "string" ? pair.split(":") : [];
      if (users.length !== 2) continue;
      const deleted = await sweepConversation(kv, [users[0], users[1]], firstMessageIdAt(before));
      if (deleted === null) result.skipped++;
      else result.deleted += deleted;
      if (Date.now() > renewAt) {
        // Lost to another node (this one stalled past the lease): it goes on from here.
        if (!(await lease(kv, holder))) break;
        renewAt = Date.now() + LEASE_MS / 2;
      }
    }
  } finally {
    await release(kv, holder);
  }
  return result;
}

/** Deletes the messages of one conversation before `end`; null when its marks kept changing. */
async function sweepConversation(
  kv: Deno.Kv,
  [a, b]: [string, string],
  end: string,
): Promise<number | null> {
  const prefix = [...allMessagesPrefix(), `${a}:${b}`];
  // Each side: the reader, the author it reads.
  const sides: [string, string][] = a === b ? [] : [[a, b], [b, a]];
  let deleted = 0;
  for (let conflicts = 0; conflicts < ATTEMPTS;) {
    const [rows, state] = await Promise.all([
      retryLocked(() =>
        Array.fromAsync(kv.list<Message>({ prefix, end: [...prefix, end] }, { limit: BATCH }))
      ),
      retryLocked(() =>
        kv.getMany<(ReadMark | Deno.KvU64)[]>(
          sides.flatMap((
            [reader, author],
          ) => [readKey(reader, author), receivedKey(reader, author)]),
        )
      ),
    ]);
    if (rows.length === 0) return deleted;
    const op = kv.atomic();
    for (const row of rows) op.delete(row.key);
    sides.forEach(([reader, author], i) => {
      const mark = state[2 * i] as Deno.KvEntryMaybe<ReadMark>;
      op.check(mark);
      // A user without a counter (a deleted account) has nothing unread to keep right.
      if (state[2 * i + 1].versionstamp === null) return;
      const unread = rows.filter((row) =>
        row.value.from === author &&
        (mark.value === null || (row.key[2] as string) > mark.value.upTo)
      );
      if (unread.length === 0) return;
      op.set(
        readKey(reader, author),
        {
          upTo: unread[unread.length - 1].key[2] as string,
          received: (mark.value?.received ?? 0) + unread.length,
        } satisfies ReadMark,
      );
    });
    const { ok } = await retryLocked(() => op.commit());
    if (ok) deleted += rows.length;
    else conflicts++;
  }
  return null;
}
