/**
 * `GET /metrics` against the real server: real Socket.IO clients sign up, log
 * in and send messages, the exposition is parsed, and each series must have
 * moved by exactly what the traffic did.
 */

import assert from "node:assert/strict";
import { signToken } from "../../server/auth/tokens.ts";
import type { Message, SendMessageAck } from "../../server/protocol.ts";
import { type ClientSocket, collect, connectError, startTestServer, waitFor } from "./helpers.ts";
import { type Exposition, parsePrometheus, scrape } from "./prometheus.ts";

/** The change of every counter-like series named in `names` between two scrapes. */
function changes(before: Exposition, after: Exposition, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const sample of after.samples) {
    if (!names.includes(sample.name)) continue;
    const labels = Object.entries(sample.labels).map(([k, v]) => `${k}=${v}`).join(",");
    const delta = sample.value - before.count(sample.name, sample.labels);
    if (delta !== 0) out[labels ? `${sample.name}{${labels}}` : sample.name] = delta;
  }
  return out;
}

function send(socket: ClientSocket, payload: Record<string, unknown>): Promise<SendMessageAck> {
  // deno-lint-ignore no-explicit-any
  return (socket as any).emitWithAck("private message", payload);
}

Deno.test("parsePrometheus() reads labels, escapes, histograms and special values, and refuses bad lines", () => {
  const parsed = parsePrometheus([
    "# HELP a_total Things, counted",
    "# TYPE a_total counter",
    'a_total{code="x",path="C:\\\\dir \\"q\\"\\nnext"} 3',
    "a_total 1.5e3 1700000000000",
    "# TYPE h histogram",
    'h_bucket{le="0.5"} 1',
    'h_bucket{le="+Inf"} 2',
    "h_sum 0.75",
    "h_count 2",
    "# TYPE g gauge",
    "g NaN",
    "",
  ].join("\n"));
  assert.equal(parsed.types.get("a_total"), "counter");
  assert.equal(parsed.help.get("a_total"), "Things, counted");
  assert.equal(parsed.value("a_total", { path: 'C:\\dir "q"\nnext', code: "x" }), 3);
  assert.equal(parsed.value("a_total"), 1500);
  assert.equal(parsed.value("h_bucket", { le: "+Inf" }), 2);
  assert.equal(parsed.value("h_count"), 2);
  assert.ok(Number.isNaN(parsed.value("g")));
  assert.equal(parsed.value("a_total", { code: "y" }), undefined);
  assert.equal(parsed.count("a_total", { code: "y" }), 0);
  for (
    const bad of [
      "# TYPE a counter\na{code=x} 1",
      '# TYPE a counter\na{code="x} 1',
      "# TYPE a counter\na one",
      "# TYPE a counter\na 1 2 3",
      "b 1",
      "# TYPE a thing",
    ]
  ) {
    assert.throws(() => parsePrometheus(bad), SyntaxError, bad);
  }
});

Deno.test("GET /metrics counts sign-ups, logins, messages stored, relayed and refused, and KV commits", async () => {
  await using server = await startTestServer();
  const empty = await scrape(server.url);
  // Every series is named for Prometheus: one prefix, counters in _total, units spelled out.
  for (const [name, type] of empty.types) {
    assert.match(name, /^(chat|process)_[a-z_]+$/, name);
    if (type === "counter") assert.match(name, /_total$/, name);
    assert.ok(empty.help.get(name), `${name} has a HELP line`);
  }
  for (const name of ["chat_messages_received_total", "chat_messages_stored_total"]) {
    assert.equal(empty.types.get(name), "counter");
  }
  assert.equal(empty.types.get("chat_ack_duration_seconds"), "histogram");
  assert.equal(empty.types.get("chat_kv_commit_duration_seconds"), "histogram");
  assert.equal(empty.types.get("chat_connected_sockets"), "gauge");
  // Redis is not configured: no gauge pretends it is down.
  assert.equal(empty.types.has("chat_redis_connected"), false);

  const ann = await server.connect({ username: "ann" });
  const bob = await server.connect({ username: "bob" });
  const ann2 = await server.connect({ sessionID: ann.session.sessionID });
  const toBob = collect<Message>(bob.socket, "private message");
  const toAnn2 = collect<Message>(ann2.socket, "private message");
  assert.equal((await connectError(server.url, {})).data?.code, "invalid_username");
  assert.equal((await connectError(server.url, { username: "ann" })).data?.code, "username_taken");
  const before = await scrape(server.url);
  assert.equal(before.value("chat_connected_sockets"), 3);
  assert.equal(before.value("chat_connected_users"), 2);
  assert.deepEqual(changes(empty, before, ["chat_logins_total", "chat_signups_total"]), {
    "chat_logins_total{mode=username}": 2,
    "chat_logins_total{mode=session}": 1,
    "chat_signups_total{mode=username}": 2,
  });
  assert.equal(before.value("chat_handshakes_refused_total", { code: "invalid_username" }), 1);
  assert.equal(before.value("chat_handshakes_refused_total", { code: "username_taken" }), 1);

  const to = bob.session.userID;
  for (let i = 0; i < 3; i++) {
    const ack = await send(ann.socket, { content: `hello ${i}`, to, clientId: `c${i}` });
    assert.equal(ack.ok, true);
  }
  // A retry of a stored message, a message to nobody, an empty one.
  assert.equal((await send(ann.socket, { content: "hello 0", to, clientId: "c0" })).ok, true);
  const unknown = await send(ann.socket, { content: "hi", to: "no-such-user" });
  assert.equal(unknown.ok === false && unknown.error.code, "unknown_recipient");
  const blank = await send(ann.socket, { content: "", to });
  assert.equal(blank.ok === false && blank.error.code, "content_empty");
  await waitFor(() => toBob.length === 3 && toAnn2.length === 3, "the relays");

  const after = await scrape(server.url);
  assert.deepEqual(
    changes(before, after, [
      "chat_messages_received_total",
      "chat_messages_stored_total",
      "chat_messages_duplicate_total",
      "chat_messages_relayed_total",
      "chat_messages_refused_total",
      "chat_rate_limited_total",
      "chat_logins_total",
      "chat_signups_total",
    ]),
    {
      chat_messages_received_total: 6,
      chat_messages_stored_total: 3,
      chat_messages_duplicate_total: 1,
      chat_messages_relayed_total: 3,
      "chat_messages_refused_total{code=unknown_recipient}": 1,
      "chat_messages_refused_total{code=content_empty}": 1,
    },
  );
  // Every ack of those six, each within the histogram's buckets, cumulative.
  const ack = { event: "private message" };
  assert.equal(after.count("chat_ack_duration_seconds_count", ack), 6);
  assert.equal(after.value("chat_ack_duration_seconds_bucket", { ...ack, le: "+Inf" }), 6);
  const buckets = after.series("chat_ack_duration_seconds_bucket", ack).map((s) => s.value);
  assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), "buckets are cumulative");
  assert.ok(after.value("chat_ack_duration_seconds_sum", ack)! > 0);
  // The group writer's commits: as many as it counts itself, each write in one of them.
  const stats = server.store.writerStats;
  assert.equal(after.value("chat_kv_commit_duration_seconds_count"), stats.commits);
  assert.equal(after.value("chat_kv_commit_batch_size_count"), stats.commits);
  // Plus the sign-up of a taken name: a commit of its own, whose check failed.
  assert.equal(after.value("chat_kv_commit_batch_size_sum"), stats.writes + 1);
  assert.ok(stats.writes >= 5, "2 sign-ups and 3 messages at least");
  assert.ok(after.value("chat_kv_commit_duration_seconds_sum")! > 0);

  // Ann keeps a socket when her second one closes; Bob has none left when his does.
  ann2.socket.close();
  await waitFor(() => server.io.engine.clientsCount === 2, "ann2's connection to close");
  const annLeft = await scrape(server.url);
  assert.deepEqual(
    [annLeft.value("chat_connected_sockets"), annLeft.value("chat_connected_users")],
    [2, 2],
  );
  bob.socket.close();
  await waitFor(() => server.io.engine.clientsCount === 1, "bob's connection to close");
  const bobLeft = await scrape(server.url);
  assert.deepEqual(
    [bobLeft.value("chat_connected_sockets"), bobLeft.value("chat_connected_users")],
    [1, 1],
  );
});

Deno.test("GET /metrics counts rate-limit and connection-limit refusals", async () => {
  await using server = await startTestServer({
    MESSAGE_RATE: "1",
    MESSAGE_BURST: "3",
    SIGNUP_LIMIT: "3",
    CONNECTIONS_PER_IP: "3",
    CONNECTIONS_PER_USER: "1",
  });
  const ann = await server.connect({ username: "ann" });
  const bob = await server.connect({ username: "bob" });
  const carl = await server.connect({ username: "carl" });
  // The address holds 3 sockets: refused before any sign-up is tried.
  assert.equal((await connectError(server.url, { username: "dan" })).data?.code, "rate_limited");
  carl.socket.close();
  await waitFor(() => server.io.engine.clientsCount === 2, "carl's connection to close");
  // 3 sign-ups this hour already.
  assert.equal((await connectError(server.url, { username: "dan" })).data?.code, "rate_limited");
  // Ann has her one socket.
  const again = await connectError(server.url, { sessionID: ann.session.sessionID });
  assert.equal(again.data?.code, "rate_limited");

  const acks = await Promise.all(
    Array.from(
      { length: 5 },
      (_, i) => send(ann.socket, { content: `m${i}`, to: bob.session.userID }),
    ),
  );
  const codes = acks.map((a) => a.ok ? "ok" : a.error.code);
  assert.deepEqual(codes, ["ok", "ok", "ok", "rate_limited", "rate_limited"]);

  const m = await scrape(server.url);
  assert.equal(m.value("chat_rate_limited_total", { limit: "events" }), 2);
  assert.equal(m.value("chat_rate_limited_total", { limit: "signups" }), 1);
  assert.equal(m.value("chat_connections_refused_total", { limit: "per_address" }), 1);
  assert.equal(m.value("chat_connections_refused_total", { limit: "per_user" }), 1);
  assert.equal(m.value("chat_handshakes_refused_total", { code: "rate_limited" }), 3);
  assert.equal(m.value("chat_messages_received_total"), 5);
  assert.equal(m.value("chat_messages_stored_total"), 3);
  assert.equal(m.value("chat_messages_refused_total", { code: "rate_limited" }), 2);
  assert.equal(m.count("chat_ack_duration_seconds_count", { event: "private message" }), 5);
  assert.equal(m.value("chat_logins_total", { mode: "username" }), 3);
  assert.equal(m.value("chat_signups_total", { mode: "username" }), 3);
});

Deno.test("GET /metrics counts host-token sign-ins, and a user's first one as a sign-up", async () => {
  const secret = "a-host-secret-of-at-least-32-characters!";
  await using server = await startTestServer({ AUTH_SECRET: secret });
  const token = () => signToken({ secret, sub: "site-7", name: "Ada", expiresInSeconds: 60 });
  const first = await server.connect({ token: await token() });
  const second = await server.connect({ token: await token() });
  assert.equal(first.session.userID, second.session.userID);
  const expired = await signToken({ secret, sub: "site-8", name: "Bo", expiresInSeconds: -600 });
  assert.equal((await connectError(server.url, { token: expired })).data?.code, "token_expired");
  const m = await scrape(server.url);
  assert.equal(m.value("chat_logins_total", { mode: "token" }), 2);
  assert.equal(m.value("chat_signups_total", { mode: "token" }), 1);
  assert.equal(m.value("chat_logins_total", { mode: "username" }), 0);
  assert.equal(m.value("chat_handshakes_refused_total", { code: "token_expired" }), 1);
});

Deno.test("GET /metrics needs METRICS_TOKEN as a bearer when one is set", async () => {
  const token = "a-metrics-token-for-the-test";
  await using server = await startTestServer({ METRICS_TOKEN: token });
  for (const authorization of [undefined, "Bearer wrong-token-of-some-length", `Basic ${token}`]) {
    const res = await fetch(`${server.url}/metrics`, {
      headers: authorization ? { Authorization: authorization } : {},
    });
    assert.equal(res.status, 401, String(authorization));
    assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="metrics"');
    const body = await res.json();
    assert.match(body.error, /^Cannot show metrics: .*Authorization: Bearer <METRICS_TOKEN>/);
  }
  const res = await fetch(`${server.url}/metrics`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(parsePrometheus(await res.text()).value("chat_connected_sockets"), 0);
  const head = await fetch(`${server.url}/metrics`, {
    method: "HEAD",
    headers: { Authorization: `Bearer ${token}` },
  });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("METRICS=off: /metrics says so with a 404, and messages flow uncounted", async () => {
  await using server = await startTestServer({ METRICS: "off" });
  assert.equal(server.metrics, undefined);
  const ann = await server.connect({ username: "ann" });
  const bob = await server.connect({ username: "bob" });
  assert.equal((await send(ann.socket, { content: "hi", to: bob.session.userID })).ok, true);
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 404);
  assert.match((await res.json()).error, /switched off on this server \(METRICS=off\)/);
});

Deno.test("every server has a registry of its own, and process gauges that read real values", async () => {
  await using one = await startTestServer();
  await using two = await startTestServer();
  const ann = await one.connect({ username: "ann" });
  assert.equal((await send(ann.socket, { content: "hi", to: ann.session.userID })).ok, true);
  const [a, b] = [await scrape(one.url), await scrape(two.url)];
  assert.equal(a.value("chat_messages_stored_total"), 1);
  assert.equal(b.value("chat_messages_stored_total"), 0);
  assert.equal(a.value("chat_connected_sockets"), 1);
  assert.equal(b.value("chat_connected_sockets"), 0);
  const memory = Deno.memoryUsage();
  const rss = a.value("process_resident_memory_bytes")!;
  assert.ok(rss > memory.heapUsed && rss < memory.rss * 2, `RSS ${rss}`);
  assert.ok(a.value("chat_heap_used_bytes")! > 1e6);
  assert.ok(a.value("chat_heap_total_bytes")! >= a.value("chat_heap_used_bytes")!);
  assert.ok(a.value("process_cpu_seconds_total")! > 0);
  const started = a.value("process_start_time_seconds")!;
  assert.ok(started <= Date.now() / 1000 && started > Date.now() / 1000 - 3600, `${started}`);
});

Deno.test("chat_event_loop_lag_seconds sees the event loop held up", async () => {
  await using server = await startTestServer();
  const lagged = (m: Exposition) =>
    m.count("chat_event_loop_lag_seconds_count") -
    m.count("chat_event_loop_lag_seconds_bucket", { le: "0.1" });
  const before = await scrape(server.url);
  // Busy for 700 ms: a sample (every 500 ms) falls due in it and fires at least 0.2 s late.
  const until = performance.now() + 700;
  while (performance.now() < until) {
    // Holding the loop on purpose.
  }
  await new Promise((resolve) => setTimeout(resolve, 600));
  const after = await scrape(server.url);
  assert.ok(after.count("chat_event_loop_lag_seconds_count") >= 2, "it samples every 500 ms");
  assert.ok(lagged(after) - lagged(before) >= 1, "a sample later than 0.1 s");
  assert.ok(after.value("chat_event_loop_lag_seconds_sum")! >= 0.2);
});

Deno.test("close() stops the event-loop lag monitor", async () => {
  const server = await startTestServer();
  const samples = async () =>
    parsePrometheus((await server.metrics!.render()).text).count(
      "chat_event_loop_lag_seconds_count",
    );
  try {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.ok(await samples() >= 2, "it samples while the server runs");
  } finally {
    await server[Symbol.asyncDispose]();
  }
  const closed = await samples();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  assert.equal(await samples(), closed, "no sample after close()");
});
