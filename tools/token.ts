/**
 * `deno task token <sub> <name>`: prints a token for the host site's user `sub`
 * with display name `name`, signed with `AUTH_SECRET` (and carrying
 * `AUTH_AUDIENCE` / `AUTH_ISSUER` when set), as the site's backend would.
 */

import { parseArgs } from "node:util";
import {
  MAX_SUBJECT_LENGTH,
  MAX_TOKEN_LIFETIME_SECONDS,
  MIN_SECRET_LENGTH,
  signToken,
} from "../server/auth/tokens.ts";

const USAGE = `Usage: deno task token <sub> <name> [--expires-in SECONDS]

Prints an HS256 token for the chat, signed with AUTH_SECRET.
  <sub>             the site's user id (1-${MAX_SUBJECT_LENGTH} characters)
  <name>            the display name
  --expires-in N    lifetime in seconds (default 3600, at most ${MAX_TOKEN_LIFETIME_SECONDS})
Reads AUTH_SECRET (required), AUTH_AUDIENCE and AUTH_ISSUER from the environment.`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "expires-in": { type: "string", default: "3600" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
if (parsed.values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const [sub, name, ...extra] = parsed.positionals;
if (sub === undefined || name === undefined || extra.length > 0) {
  fail("Cannot make a token: give exactly a sub and a name");
}
if (sub.length > MAX_SUBJECT_LENGTH) fail(`Cannot use sub: longer than ${MAX_SUBJECT_LENGTH}`);
const expiresIn = Number(parsed.values["expires-in"]);
if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > MAX_TOKEN_LIFETIME_SECONDS) {
  fail(
    `Cannot use --expires-in "${
      parsed.values["expires-in"]
    }": must be whole seconds from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`,
  );
}
const secret = Deno.env.get("AUTH_SECRET") ?? "";
if (secret.length < MIN_SECRET_LENGTH) {
  fail(`Cannot sign: AUTH_SECRET must be set to at least ${MIN_SECRET_LENGTH} characters`);
}
console.log(
  await signToken({
    secret,
    sub,
    name,
    expiresInSeconds: expiresIn,
    audience: Deno.env.get("AUTH_AUDIENCE") || undefined,
    issuer: Deno.env.get("AUTH_ISSUER") || undefined,
  }),
);
