import { LocalPresence } from "../../server/chat/presence.ts";
import { KvPresence } from "../../server/store/kv_presence.ts";
import { memoryLogger } from "./helpers.ts";
import { presenceContract } from "./presence_contract.ts";

presenceContract(
  "LocalPresence",
  () => Promise.resolve({ presence: new LocalPresence(), [Symbol.asyncDispose]: async () => {} }),
);

presenceContract("KvPresence", async () => {
  const kv = await Deno.openKv(":memory:");
  const presence = new KvPresence(kv, { nodeID: "node", ttlMs: 60_000, logger: memoryLogger() });
  await presence.start({ timers: false });
  return {
    presence,
    async [Symbol.asyncDispose]() {
      try {
        await presence.close();
      } finally {
        kv.close();
      }
    },
  };
});
