import assert from "node:assert/strict";
import { createLogger, escapeControls } from "../../server/log.ts";

// Control and formatting characters no log line may hold raw (a line ends in one \n).
// deno-lint-ignore no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

function captured(format: "json" | "text", level: "debug" | "info" | "warn" = "info") {
  const lines: string[] = [];
  const logger = createLogger({ level, format, destination: { write: (l) => lines.push(l) } });
  return { logger, lines };
}

Deno.test("createLogger() writes one JSON object per line, with the level by name", () => {
  const { logger, lines } = captured("json");
  logger.info({ event: "start", userID: "u1" }, "Started");
  logger.error({ event: "private message", code: "internal", err: new Error("boom") }, "Failed");
  assert.equal(lines.length, 2);
  for (const line of lines) assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  const [first, second] = lines.map((l) => JSON.parse(l));
  assert.equal(first.level, "info");
  assert.equal(first.msg, "Started");
  assert.equal(first.userID, "u1");
  assert.match(first.time, /^\d{4}-\d\d-\d\dT/);
  assert.equal(second.level, "error");
  assert.equal(second.code, "internal");
  assert.equal(second.err.message, "boom");
  assert.match(second.err.stack, /boom/);
});

Deno.test("createLogger() leaves out levels below its own", () => {
  const { logger, lines } = captured("json", "warn");
  logger.debug("debug");
  logger.info("info");
  logger.warn("warn");
  assert.deepEqual(lines.map((l) => JSON.parse(l).msg), ["warn"]);
});

Deno.test("createLogger() never writes session IDs, tokens or message content", () => {
  const { logger, lines } = captured("json");
  logger.warn({
    sessionID: "secret-session",
    token: "secret-token",
    content: "secret text",
    auth: { sessionID: "secret-auth" },
    request: { content: "secret nested", to: "u2" },
  }, "Refused");
  const [line] = lines;
  assert.doesNotMatch(line, /secret/);
  assert.equal(JSON.parse(line).request.to, "u2", "other fields stay");
});

Deno.test("createLogger() escapes control characters in JSON and in text", () => {
  const evil = "name\u009b31m\u202e\n[00:00:00.000] ERROR: forged\u001b[2J";
  const json = captured("json");
  json.logger.warn({ username: evil }, `Dropped ${evil}`);
  assert.equal(json.lines.length, 1);
  assert.doesNotMatch(json.lines[0], RAW_CONTROL);
  assert.equal(JSON.parse(json.lines[0]).username, evil, "the JSON still holds the exact value");
  const text = captured("text");
  text.logger.warn({ username: evil }, `Dropped ${evil}`);
  const out = text.lines.join("");
  assert.doesNotMatch(out, RAW_CONTROL);
  assert.equal(
    out.match(/ERROR/g)?.length ?? 0,
    2,
    "the forged level stays inside its line, twice",
  );
  assert.ok(!out.split("\n").some((l) => l.startsWith("[00:00:00.000]")), "no forged line");
});

Deno.test("escapeControls() writes controls and bidirectional overrides as \\u escapes", () => {
  assert.equal(escapeControls("a\u0000b\u202ec\n"), "a\\u0000b\\u202ec\\u000a");
  assert.equal(escapeControls("plain ünïcode"), "plain ünïcode");
});
