/**
 * Host-issued identity: every kind of token a server with AUTH_SECRET or
 * AUTH_JWKS_URL meets, against a real server and, for the JWKS, a real key set
 * served on loopback.
 */

import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { signToken } from "../../server/auth/tokens.ts";
import { hostUserId } from "../../server/chat/ids.ts";
import { loadConfig } from "../../server/config.ts";
import type { UserUpdate } from "../../server/protocol.ts";
import { connectError, nextEvent, startTestServer } from "./helpers.ts";

const SECRET = "a test secret of more than thirty-two characters";
const OTHER_SECRET = "another secret, also more than thirty-two characters";

function token(
  claims: { sub?: string; name?: string; exp?: number; aud?: string; iss?: string },
  secret = SECRET,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const { sub, exp, aud, iss, ...rest } = claims;
  let jwt = new SignJWT(rest).setProtectedHeader({ alg: "HS256" }).setIssuedAt(now);
  if (sub !== undefined) jwt = jwt.setSubject(sub);
  if (exp !== undefined) jwt = jwt.setExpirationTime(exp);
  if (aud !== undefined) jwt = jwt.setAudience(aud);
  if (iss !== undefined) jwt = jwt.setIssuer(iss);
  return jwt.sign(new TextEncoder().encode(secret));
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

function base64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The connect error for `auth`, with its code and message, and proof the token is not in it. */
async function refusal(url: string, auth: Record<string, unknown>) {
  const error = await connectError(url, auth);
  if (typeof auth.token === "string" && auth.token.length > 20) {
    assert.ok(!error.message.includes(auth.token), "the message never carries the token");
  }
  return { code: error.data?.code, message: error.message };
}

Deno.test("loadConfig() reads the identity settings and refuses bad ones without echoing the secret", () => {
  const d = loadConfig({});
  assert.equal(d.authSecret, "");
  assert.equal(d.accountTtlDays, 90);
  assert.equal(d.demoAuth, false);
  assert.throws(() => loadConfig({ AUTH_SECRET: "short-secret" }), {
    name: "RangeError",
    message:
      "Cannot use AUTH_SECRET: it has 12 characters, at least 32 are needed (256 bits for HS256)",
  });
  assert.throws(
    () => loadConfig({ AUTH_SECRET: SECRET, AUTH_JWKS_URL: "https://id.example/jwks.json" }),
    { message: "Cannot use both AUTH_SECRET and AUTH_JWKS_URL: set one of them" },
  );
  assert.throws(() => loadConfig({ AUTH_JWKS_URL: "http://id.example/jwks.json" }), {
    message:
      'Cannot use AUTH_JWKS_URL "http://id.example/jwks.json": must be https (http only on loopback)',
  });
  assert.throws(() => loadConfig({ DEMO_AUTH: "yes" }), {
    message: 'Cannot use DEMO_AUTH "yes": must be 1 or 0',
  });
  assert.equal(loadConfig({ ACCOUNT_TTL_DAYS: "0" }).accountTtlDays, 0);
});

Deno.test("a good token signs in as the host's user, with a stable ID and no session", async () => {
  await using server = await startTestServer({ AUTH_SECRET: SECRET });
  const good = await token({ sub: "site-user-42", name: "  Ada   Lovelace ", exp: inAnHour() });
  const first = await server.connect({ token: good });
  assert.deepEqual(first.session, {
    sessionID: "",
    userID: await hostUserId("site-user-42"),
    username: "Ada Lovelace",
    identity: "host",
    maxContentLength: 10_000,
    editWindowSeconds: 900,
    preferences: { readReceipts: true },
  });
  assert.equal(first.users[0].self, true);
  // The same sub on another connect (or node) is the same user.
  const again = await server.connect({ token: good });
  assert.equal(again.session.userID, first.session.userID);
  // Display names need not be unique.
  const other = await server.connect({
    token: await token({ sub: "site-user-43", name: "Ada Lovelace", exp: inAnHour() }),
  });
  assert.notEqual(other.session.userID, first.session.userID);
  assert.equal(other.session.username, "Ada Lovelace");
});

Deno.test("bad tokens are refused with a code and a message that says what is wrong", async () => {
  await using server = await startTestServer({
    AUTH_SECRET: SECRET,
    AUTH_AUDIENCE: "chat.example",
    AUTH_ISSUER: "https://shop.example",
  });
  const ok = { aud: "chat.example", iss: "https://shop.example" };
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "expired",
      { token: await token({ ...ok, sub: "u", name: "U", exp: now - 120 }) },
      "token_expired",
      /^Token expired at \d{4}-\d\d-\d\dT.*: get a fresh one from the site$/,
    ],
    [
      "wrong signature",
      { token: await token({ ...ok, sub: "u", name: "U", exp: inAnHour() }, OTHER_SECRET) },
      "invalid_token",
      /^Token signature does not verify$/,
    ],
    [
      "wrong audience",
      { token: await token({ ...ok, aud: "other.example", sub: "u", name: "U", exp: inAnHour() }) },
      "invalid_token",
      /^Token audience is not this chat's$/,
    ],
    [
      "wrong issuer",
      {
        token: await token({
          ...ok,
          iss: "https://evil.example",
          sub: "u",
          name: "U",
          exp: inAnHour(),
        }),
      },
      "invalid_token",
      /^Token issuer is not the one this chat accepts$/,
    ],
    [
      "alg none",
      {
        token: `${base64url('{"alg":"none","typ":"JWT"}')}.${
          base64url(JSON.stringify({ ...ok, sub: "u", name: "U", exp: inAnHour() }))
        }.`,
      },
      "invalid_token",
      /^Token algorithm is not accepted: use HS256$/,
    ],
    [
      "missing sub",
      { token: await token({ ...ok, name: "U", exp: inAnHour() }) },
      "invalid_token",
      /^Token claim "sub" is missing or malformed$/,
    ],
    [
      "a sub of 129 characters",
      { token: await token({ ...ok, sub: "s".repeat(129), name: "U", exp: inAnHour() }) },
      "invalid_token",
      /^Token claim "sub" must be text of 1 to 128 characters$/,
    ],
    [
      "missing exp",
      { token: await token({ ...ok, sub: "u", name: "U" }) },
      "invalid_token",
      /^Token claim "exp" is missing or malformed$/,
    ],
    [
      "exp two days ahead",
      { token: await token({ ...ok, sub: "u", name: "U", exp: now + 2 * 86_400 }) },
      "invalid_token",
      /^Token claim "exp" is more than 24 hours ahead: tokens must be short-lived$/,
    ],
    [
      "missing name",
      { token: await token({ ...ok, sub: "u", exp: inAnHour() }) },
      "invalid_token",
      /^Token claim "name" \(the display name\) is required$/,
    ],
    [
      "a name with a bidirectional override",
      { token: await token({ ...ok, sub: "u", name: "Eve\u202Eevil", exp: inAnHour() }) },
      "invalid_token",
      /^Token claim "name" is not a usable display name: Username cannot contain invisible or formatting characters \(U\+202E\)$/,
    ],
    [
      "garbage",
      { token: "not.a.jwt-at-all" },
      "invalid_token",
      /^Token is malformed: not a signed JWT$/,
    ],
    [
      "a huge token",
      { token: "x".repeat(100_000) },
      "invalid_token",
      /^Token is too long: 100000 characters, at most 8192$/,
    ],
    [
      "a username sign-up",
      { username: "support" },
      "auth_required",
      /^This chat signs people in through the site: usernames and earlier sessions are not accepted$/,
    ],
    [
      "an anonymous session",
      { sessionID: "x".repeat(43) },
      "auth_required",
      /earlier sessions are not accepted$/,
    ],
    [
      "nothing",
      {},
      "auth_required",
      /^This chat signs people in through the site: no token was offered$/,
    ],
  ];
  const seen: string[] = [];
  for (const [name, auth, code, message] of cases) {
    const got = await refusal(server.url, auth);
    assert.equal(got.code, code, name);
    assert.match(got.message, message, name);
    seen.push(`${name}: ${got.code}: ${got.message}`);
  }
  // The same good token with the right audience and issuer is accepted.
  const good = await server.connect({
    token: await token({ ...ok, sub: "u", name: "U", exp: inAnHour() }),
  });
  assert.equal(good.session.username, "U");
  assert.equal(seen.length, cases.length);
  assert.ok(
    server.logger.lines.every((line) => !line.includes(SECRET)),
    "the secret is never logged",
  );
});

Deno.test("a new name in a token renames the user for everyone, on the wire and in users", async () => {
  await using server = await startTestServer({ AUTH_SECRET: SECRET });
  const grace = await server.connect({
    token: await token({ sub: "grace", name: "Grace", exp: inAnHour() }),
  });
  const ada = await server.connect({
    token: await token({ sub: "ada", name: "Ada", exp: inAnHour() }),
  });
  const update = nextEvent<UserUpdate>(ada.socket, "user updated");
  const renamed = await server.connect({
    token: await token({ sub: "grace", name: "Grace Hopper", exp: inAnHour() }),
  });
  assert.equal(renamed.session.username, "Grace Hopper");
  assert.deepEqual(await update, { userID: grace.session.userID, username: "Grace Hopper" });
  const later = await server.connect({
    token: await token({ sub: "ada", name: "Ada", exp: inAnHour() }),
  });
  assert.equal(
    later.users.find((u) => u.userID === grace.session.userID)?.username,
    "Grace Hopper",
  );
});

Deno.test("a host user cannot delete the account in the chat; log out leaves only that socket", async () => {
  await using server = await startTestServer({ AUTH_SECRET: SECRET });
  const auth = { token: await token({ sub: "ada", name: "Ada", exp: inAnHour() }) };
  const one = await server.connect(auth);
  const two = await server.connect(auth);
  const refused = await one.socket.emitWithAck("delete account", {});
  assert.deepEqual(refused, {
    ok: false,
    error: {
      code: "not_allowed",
      message: "This account belongs to the site: it is deleted there, not in the chat",
    },
  });
  const closed = nextEvent(one.socket, "disconnect");
  assert.deepEqual(await one.socket.emitWithAck("logout"), { ok: true });
  await closed;
  assert.equal(two.socket.connected, true, "the user's other socket stays");
});

Deno.test("tokens signed by signToken() and `deno task token` are accepted", async () => {
  await using server = await startTestServer({ AUTH_SECRET: SECRET });
  const signed = await signToken({ secret: SECRET, sub: "ada", name: "Ada", expiresInSeconds: 60 });
  assert.equal((await server.connect({ token: signed })).session.username, "Ada");
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/token.ts", "ada", "Ada Lovelace", "--expires-in", "120"],
    cwd: new URL("../../", import.meta.url),
    env: { AUTH_SECRET: SECRET },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const printed = new TextDecoder().decode(out.stdout).trim();
  assert.equal((await server.connect({ token: printed })).session.username, "Ada Lovelace");
  const missing = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tools/token.ts", "ada", "Ada"],
    cwd: new URL("../../", import.meta.url),
    env: { AUTH_SECRET: "" },
  }).output();
  assert.equal(missing.code, 2);
  assert.match(new TextDecoder().decode(missing.stderr), /AUTH_SECRET/);
});

Deno.test("with AUTH_JWKS_URL: ES256 and RS256 tokens from the key set verify, HS256 does not", async () => {
  const es = await generateKeyPair("ES256");
  const rs = await generateKeyPair("RS256");
  const keys = [
    { ...(await exportJWK(es.publicKey)), kid: "es-1", alg: "ES256", use: "sig" },
    { ...(await exportJWK(rs.publicKey)), kid: "rs-1", alg: "RS256", use: "sig" },
  ];
  let fetches = 0;
  await using jwks = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    fetches++;
    return Response.json({ keys });
  });
  const jwksUrl = `http://127.0.0.1:${jwks.addr.port}/.well-known/jwks.json`;
  await using server = await startTestServer({ AUTH_JWKS_URL: jwksUrl });
  type PrivateKey = Parameters<SignJWT["sign"]>[0];
  const signed = (alg: "ES256" | "RS256", kid: string, key: PrivateKey) =>
    new SignJWT({ name: `${alg} user` }).setProtectedHeader({ alg, kid }).setSubject(alg)
      .setExpirationTime("10m").sign(key);
  assert.equal(
    (await server.connect({ token: await signed("ES256", "es-1", es.privateKey) })).session
      .username,
    "ES256 user",
  );
  assert.equal(
    (await server.connect({ token: await signed("RS256", "rs-1", rs.privateKey) })).session
      .username,
    "RS256 user",
  );
  assert.equal(fetches, 1, "the key set is fetched once and cached");
  const hs = await token({ sub: "u", name: "U", exp: inAnHour() });
  assert.deepEqual(await refusal(server.url, { token: hs }), {
    code: "invalid_token",
    message: "Token algorithm is not accepted: use RS256 or ES256",
  });
  const stranger = await generateKeyPair("ES256");
  assert.deepEqual(
    await refusal(server.url, { token: await signed("ES256", "es-1", stranger.privateKey) }),
    { code: "invalid_token", message: "Token signature does not verify" },
  );
  assert.deepEqual(
    await refusal(server.url, { token: await signed("ES256", "unknown-kid", es.privateKey) }),
    { code: "invalid_token", message: "No key of the site's JWKS matches the token" },
  );
});

Deno.test("an unreachable JWKS fails the handshake as internal and is logged, not blamed on the token", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using server = await startTestServer({
    AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
  });
  const key = await generateKeyPair("ES256");
  const jwt = await new SignJWT({ name: "U" }).setProtectedHeader({ alg: "ES256", kid: "k" })
    .setSubject("u").setExpirationTime("10m").sign(key.privateKey);
  assert.deepEqual(await refusal(server.url, { token: jwt }), {
    code: "internal",
    message: "Internal server error",
  });
  assert.ok(server.logger.entries().some((e) => e.event === "handshake" && e.level === "error"));
});

Deno.test("DEMO_AUTH=1 serves /demo-token for the two demo users only; without it there is none", async () => {
  await using demo = await startTestServer({ DEMO_AUTH: "1" });
  const response = await fetch(`${demo.url}/demo-token?user=grace`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const { token: demoToken } = await response.json();
  const grace = await demo.connect({ token: demoToken });
  assert.equal(grace.session.username, "Grace Hopper");
  assert.equal(grace.session.userID, await hostUserId("demo-grace"));
  const unknown = await fetch(`${demo.url}/demo-token?user=mallory`);
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { error: 'No demo user "mallory"' });
  assert.ok(demo.logger.entries().some((e) => e.event === "demo auth" && e.level === "warn"));
  // Anonymous sign-ups are refused on the demo's host-mode server.
  assert.equal((await refusal(demo.url, { username: "ada" })).code, "auth_required");

  await using plain = await startTestServer();
  const none = await fetch(`${plain.url}/demo-token?user=ada`);
  await none.body?.cancel();
  assert.equal(none.status, 404);
});

Deno.test("a display name hiding invisible characters is refused with the reason; look-alikes are allowed", async () => {
  await using server = await startTestServer({ AUTH_SECRET: SECRET });
  const cases: [string, string][] = [
    ["adm\u200Bin", "cannot contain invisible or formatting characters (U+200B)"],
    ["Ada\u2060Lovelace", "cannot contain invisible or formatting characters (U+2060)"],
    ["Ada\u{E0041}", "cannot contain invisible or formatting characters (U+E0041)"],
    ["\u3164", "cannot be blank: it has only invisible characters (U+3164)"],
  ];
  for (const [name, reason] of cases) {
    const got = await refusal(server.url, {
      token: await token({ sub: "mallory", name, exp: inAnHour() }),
    });
    assert.equal(got.code, "invalid_token", JSON.stringify(name));
    assert.equal(
      got.message,
      `Token claim "name" is not a usable display name: Username ${reason}`,
    );
  }
  // Display names need not be unique, so neither need they look unlike.
  const names = ["admin", "\u0430dmin", "ADMIN", "ａｄｍｉｎ"];
  for (const [i, name] of names.entries()) {
    const user = await server.connect({
      token: await token({ sub: `host-${i}`, name, exp: inAnHour() }),
    });
    assert.equal(user.session.username, name);
  }
});
