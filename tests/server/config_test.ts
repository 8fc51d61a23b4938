import assert from "node:assert/strict";
import {
  CONFIG_ENV_NAMES,
  DEFAULT_CONFIG,
  loadConfig,
  SETTINGS,
  settingsHelp,
  unknownSettingWarnings,
} from "../../server/config.ts";

Deno.test("loadConfig() uses the defaults for unset and empty variables", () => {
  assert.deepEqual(loadConfig({}), DEFAULT_CONFIG);
  assert.deepEqual(loadConfig({ PORT: "", KV_PATH: "  " }), DEFAULT_CONFIG);
  assert.equal(DEFAULT_CONFIG.port, 3000);
  assert.equal(DEFAULT_CONFIG.host, "127.0.0.1");
  assert.equal(DEFAULT_CONFIG.maxContentLength, 10_000);
  assert.deepEqual(DEFAULT_CONFIG.corsOrigins, []);
});

Deno.test("loadConfig() reads every variable", () => {
  const config = loadConfig({
    PORT: "8080",
    HOST: "0.0.0.0",
    KV_PATH: ":memory:",
    CORS_ORIGINS: "http://localhost:8080, https://example.com/",
    MAX_CONTENT_LENGTH: "500",
    USER_LIST_LIMIT: "50",
    HISTORY_PAGE_SIZE: "10",
    HISTORY_BUDGET: "100",
    MESSAGE_RATE: "0",
    MESSAGE_BURST: "5",
    SESSION_TTL_DAYS: "7",
    MAX_PACKET_BYTES: "65536",
    REDIS_URL: "redis://127.0.0.1:6379",
    REDIS_STREAM_NAME: "s",
  });
  assert.equal(config.port, 8080);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.kvPath, ":memory:");
  assert.deepEqual(config.corsOrigins, ["http://localhost:8080", "https://example.com"]);
  assert.equal(config.maxContentLength, 500);
  assert.equal(config.userListLimit, 50);
  assert.equal(config.historyPageSize, 10);
  assert.equal(config.historyBudget, 100);
  assert.equal(config.messageRate, 0);
  assert.equal(config.messageBurst, 5);
  assert.equal(config.sessionTtlDays, 7);
  assert.equal(config.maxPacketBytes, 65536);
  assert.equal(config.redisUrl, "redis://127.0.0.1:6379");
  assert.equal(config.redisStreamName, "s");
  assert.equal(
    loadConfig({ KV_PATH: "https://api.deno.com/databases/x/connect" }).kvPath,
    "https://api.deno.com/databases/x/connect",
  );
  assert.deepEqual(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins, ["*"]);
});

Deno.test("loadConfig() refuses bad values with the variable and value quoted", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "abc" }, /^Cannot parse PORT "abc": not a whole number$/],
    [{ PORT: "-1" }, /PORT "-1"/],
    [{ PORT: "70000" }, /^Cannot use PORT "70000": must be between 0 and 65535$/],
    [{ PORT: "3.5" }, /not a whole number/],
    [{ MAX_CONTENT_LENGTH: "0" }, /MAX_CONTENT_LENGTH "0"/],
    [{ MAX_CONTENT_LENGTH: "1000000" }, /MAX_CONTENT_LENGTH/],
    [{ USER_LIST_LIMIT: "lots" }, /USER_LIST_LIMIT "lots"/],
    [{ CORS_ORIGINS: "not a url" }, /^Cannot parse CORS_ORIGINS entry "not a url": not a URL$/],
    [{ CORS_ORIGINS: "ftp://x.example" }, /must be http or https/],
    [{ CORS_ORIGINS: "https://x.example/app" }, /without a path/],
    [{ KV_PATH: "ftp://x/y" }, /KV_PATH "ftp:\/\/x\/y"/],
    [{ KV_PATH: "./data/" }, /names a folder/],
    [{ HOST: "bad host" }, /HOST "bad host"/],
    [{ REDIS_URL: "http://x" }, /REDIS_URL "http:\/\/x": must start with redis:\/\//],
    [{ REDIS_URL: "::" }, /Cannot parse REDIS_URL/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => loadConfig(env), (e: unknown) => {
      assert.ok(e instanceof TypeError || e instanceof RangeError);
      assert.match(e.message, message);
      return true;
    }, JSON.stringify(env));
  }
});

Deno.test("settingsHelp() lists every setting with its default and meaning", () => {
  const help = settingsHelp().split("\n");
  assert.equal(help.length, CONFIG_ENV_NAMES.length);
  for (const setting of Object.values(SETTINGS)) {
    const line = help.find((l) => l.trim().startsWith(`${setting.env} `));
    assert.ok(line, setting.env);
    assert.ok(line.includes(setting.shown) && line.includes(setting.doc), line);
  }
  assert.equal(new Set(CONFIG_ENV_NAMES).size, CONFIG_ENV_NAMES.length, "no name twice");
});

Deno.test("loadConfig() reads the log settings and refuses unknown values", () => {
  assert.equal(DEFAULT_CONFIG.logLevel, "info");
  assert.equal(DEFAULT_CONFIG.logFormat, "auto");
  const config = loadConfig({ LOG_LEVEL: "debug", LOG_FORMAT: "json" });
  assert.equal(config.logLevel, "debug");
  assert.equal(config.logFormat, "json");
  assert.throws(() => loadConfig({ LOG_LEVEL: "verbose" }), {
    name: "TypeError",
    message: 'Cannot use LOG_LEVEL "verbose": must be one of debug, info, warn, error, silent',
  });
});

Deno.test("loadConfig() gives each call its own lists", () => {
  const a = loadConfig({});
  a.corsOrigins.push("https://x.example");
  assert.deepEqual(loadConfig({}).corsOrigins, []);
});

Deno.test("unknownSettingWarnings() names the closest setting for misspellings and unknown CHAT_ names", () => {
  assert.deepEqual(
    unknownSettingWarnings([
      "KV_PAHT",
      "REDIS_URI",
      "CHAT_SECRET",
      "AUTH_SECRETS",
      "PORT",
      "HOME",
      "PATH",
      "XDG_RUNTIME_DIR",
      "DENO_KV_ACCESS_TOKEN",
      "DENO_DIR",
      "KV_PATH",
    ]),
    [
      "Unknown setting KV_PAHT: did you mean KV_PATH? (deno task serve --help lists them all)",
      "Unknown setting REDIS_URI: did you mean REDIS_URL? (deno task serve --help lists them all)",
      "Unknown setting CHAT_SECRET: did you mean AUTH_SECRET? (deno task serve --help lists them all)",
      "Unknown setting AUTH_SECRETS: did you mean AUTH_SECRET? (deno task serve --help lists them all)",
    ],
  );
});
