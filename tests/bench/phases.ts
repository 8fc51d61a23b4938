/**
 * The measured phases that several scenarios share: connecting new users, and
 * sending paced or unpaced traffic through them while the server's resources
 * are sampled, with the server's CPU time per delivered message.
 */

import { type LoadGenerator, range, type SendResult, usernames } from "./load.ts";
import type { Progress } from "./progress.ts";
import { type Run, type ScenarioTools, sendRecord } from "./results.ts";
import type { Resources, ServerRun } from "./runner.ts";

/** What one measured send phase gave. */
export interface Phase {
  send: SendResult;
  resources: Resources;
  /** Server CPU time (all threads) over the phase / messages delivered, µs. */
  cpuPerMessageUs: number;
}

/** The record of a measured phase `which` ran: its p50, p99 and server CPU per message. */
export function phaseRecord(
  which: Pick<Run, "scenario" | "variant" | "server" | "rep">,
  { send, resources, cpuPerMessageUs }: Phase,
): Run {
  return {
    ...which,
    figures: { p50: send.latency.p50, p99: send.latency.p99, cpuPerMessageUs },
    resources,
    send: sendRecord(send),
  };
}

/**
 * Whether `scenario` can run the peer: null when it can, else why not, which is
 * also printed. The scenario then measures ours alone.
 */
export async function peerSkipped(
  scenario: string,
  { runner, progress }: ScenarioTools,
): Promise<string | null> {
  const peer = await runner.peer();
  if (peer.ok) return null;
  progress.line(`${scenario}: the peer is skipped: ${peer.reason}`);
  return peer.reason;
}

/** Connects `users` new users named `${prefix}0`, `${prefix}1`, ...; throws on the first that fails. */
export async function connectUsers(
  gen: LoadGenerator,
  { users, prefix }: { users: number; prefix: string },
): Promise<void> {
  const c = await gen.connect(usernames(prefix, users), { concurrency: 100 });
  if (c.errors.length > 0) throw new Error(`connect failed: ${c.errors[0]}`);
}

/**
 * Every connected user sends to random others at `rate` messages/s in total: 1 s
 * of warm-up, then `messages` in all, measured on `run`'s server.
 */
export async function pacedPhase(
  run: ServerRun,
  gen: LoadGenerator,
  { users, rate, messages, label, progress }: {
    users: number;
    rate: number;
    messages: number;
    label: string;
    progress: Progress;
  },
): Promise<Phase> {
  progress.status(`${label}: warming up 1 s`);
  await gen.send({
    senders: range(users),
    perUser: Math.ceil(rate / users),
    rate,
    durationMs: 1000,
  });
  const perUser = Math.ceil(messages / users);
  run.begin();
  const send = await gen.send({
    senders: range(users),
    perUser,
    rate,
    durationMs: (messages / rate) * 1000,
    onProgress: progress.delivered(label, perUser * users),
  });
  return finish(run, send);
}

/** Every one of `users` users sends `perUser` messages to random others at once, measured on `run`'s server. */
export async function unpacedPhase(
  run: ServerRun,
  gen: LoadGenerator,
  { users, perUser, label, progress }: {
    users: number;
    perUser: number;
    label: string;
    progress: Progress;
  },
): Promise<Phase> {
  run.begin();
  const send = await gen.send({
    senders: range(users),
    perUser,
    onProgress: progress.delivered(label, users * perUser),
  });
  return finish(run, send);
}

async function finish(run: ServerRun, send: SendResult): Promise<Phase> {
  const resources = await run.end();
  return {
    send,
    resources,
    cpuPerMessageUs: (resources.serverCpuSeconds / send.delivered) * 1e6,
  };
}
