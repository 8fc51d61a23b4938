import assert from "node:assert/strict";
import type { LoadMessagesAck, Message, SendMessageAck } from "../../server/protocol.ts";
import { connect, type Connected } from "../server/helpers.ts";
import { clients, startCluster } from "./helpers.ts";

const PAIRS = 4;
const PER_SENDER = 375; // 8 senders: 3,000 messages in all
const WINDOW = 2;
const CHURN = 20;

async function history(reader: Connected, peer: string): Promise<Message[]> {
  const all: Message[] = [];
  let before: string | undefined;
  for (let page = 0; page < 100; page++) {
    const ack = await reader.socket.emitWithAck("load messages", {
      with: peer,
      before,
      limit: 200,
    }) as LoadMessagesAck;
    assert.ok(ack.ok);
    all.unshift(...ack.messages);
    if (!ack.hasMore || ack.messages.length === 0) return all;
    before = ack.messages[0].id;
  }
  throw new Error("Too many pages");
}

Deno.test("cluster nodes sharing one fresh KV file store every acknowledged message under load", async () => {
  // Both nodes open the fresh file at the same moment.
  await using cluster = await startCluster(2, {
    MESSAGE_RATE: "0",
  });
  await using open = clients();
  const [a, b] = cluster.nodes;

  const left: Connected[] = [];
  const right: Connected[] = [];
  for (let i = 0; i < PAIRS; i++) {
    left.push(await connect(a.url, { username: `left${i}` }));
    right.push(await connect(b.url, { username: `right${i}` }));
  }
  for (const c of [...left, ...right]) open.add(c.socket);

  const acked = new Map<string, Message>();
  const failures: unknown[] = [];
  async function sender(from: Connected, to: Connected, tag: string): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < PER_SENDER) {
        const n = next++;
        const ack = await from.socket.timeout(60_000).emitWithAck("private message", {
          content: `${tag} ${n}`,
          to: to.session.userID,
          clientId: `${tag}-${n}`,
        }) as SendMessageAck;
        if (ack.ok) acked.set(ack.message.id, ack.message);
        else failures.push(ack.error);
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, lane));
  }
  // Presence writes on both nodes while messages are written: tabs coming and going.
  async function churn(node: typeof a, sessionID: string): Promise<void> {
    for (let i = 0; i < CHURN; i++) {
      const tab = await connect(node.url, { sessionID });
      tab.socket.close();
    }
  }

  await Promise.all([
    ...left.map((l, i) => sender(l, right[i], `L${i}`)),
    ...right.map((r, i) => sender(r, left[i], `R${i}`)),
    churn(a, right[0].session.sessionID),
    churn(b, left[0].session.sessionID),
  ]);

  assert.deepEqual(failures, []);
  assert.equal(acked.size, PAIRS * 2 * PER_SENDER);
  const stored = new Set<string>();
  for (let i = 0; i < PAIRS; i++) {
    for (const m of await history(left[i], right[i].session.userID)) stored.add(m.id);
  }
  const missing = [...acked.keys()].filter((id) => !stored.has(id));
  assert.deepEqual(missing, []);

  const [ha, hb] = [await a.health(), await b.health()];
  console.log(
    `${acked.size} messages; commits A ${ha.writes.commits} B ${hb.writes.commits}; ` +
      `lock retries A ${ha.writes.lockRetries} B ${hb.writes.lockRetries}`,
  );
  for (const node of [a, b]) assert.doesNotMatch(node.output, /Uncaught|database is locked|failed/);
});
