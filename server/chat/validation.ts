/** Checks of client payloads: each returns a clean typed value or throws a `ChatError`. */

import {
  type BlockRequest,
  type DeleteMessageRequest,
  type EditMessageRequest,
  LIMITS,
  type LoadMessagesRequest,
  type MessagesDeliveredRequest,
  type MessagesReadRequest,
  type PreferencesRequest,
  type SearchUsersRequest,
  type SendMessageRequest,
  type TypingRequest,
} from "../protocol.ts";
import { ChatError } from "./errors.ts";
import { base64url, isMessageId, isUserId } from "./ids.ts";

const CLIENT_ID = /^[A-Za-z0-9._:-]+$/;

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return "binary data";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * The known fields of an object payload. Others are left out, so they are
 * never stored or relayed: a newer client may send fields an older node does
 * not know yet.
 */
function plainObject(
  value: unknown,
  known: readonly string[],
): Record<string, unknown> {
  if (
    typeof value !== "object" || value === null || Array.isArray(value) ||
    ArrayBuffer.isView(value) || value instanceof ArrayBuffer
  ) {
    throw new ChatError("invalid_payload", `Payload must be an object, got ${describe(value)}`);
  }
  const fields: Record<string, unknown> = Object.create(null);
  for (const key of known) {
    if (Object.hasOwn(value, key)) fields[key] = (value as Record<string, unknown>)[key];
  }
  return fields;
}

function text(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw new ChatError("invalid_payload", `Field "${field}" must be text, got ${describe(value)}`);
  }
  if (!value.isWellFormed()) {
    throw new ChatError("invalid_payload", `Field "${field}" contains invalid Unicode`);
  }
  return value;
}

function recipient(value: unknown, field: string): string {
  if (value === undefined) {
    throw new ChatError("invalid_payload", `Field "${field}" is required`);
  }
  const id = text(value, field);
  if (!isUserId(id)) {
    throw new ChatError("unknown_recipient", `Unknown user "${id.slice(0, 64)}"`);
  }
  return id;
}

// Session IDs are 43 characters; anything far longer is not worth a lookup.
const MAX_SESSION_ID_LENGTH = 128;

/** A handshake `auth`, checked for shape: what to restore or sign up with. */
export interface HandshakeRequest {
  /** A session to restore, when the client offered one of plausible shape. */
  sessionID?: string;
  /**
   * The username to sign up with when no session is restored. Left unchecked:
   * the username rules apply only when it is used, so a valid session wins
   * over a malformed name.
   */
  username?: unknown;
  /** A host-issued token, when the client offered text (its checks are the verifier's). */
  token?: string;
  /** The client asked to hear presence as one `presence` event per burst. */
  batchPresence: boolean;
}

/**
 * Reads a handshake `auth` payload (`HandshakeAuth` from an honest client,
 * anything at all from others). Never throws: what it cannot use is left out.
 */
export function parseHandshake(auth: unknown): HandshakeRequest {
  const body = typeof auth === "object" && auth !== null && !Array.isArray(auth)
    ? auth as Record<string, unknown>
    : {};
  const request: HandshakeRequest = { batchPresence: body.batchPresence === true };
  const { sessionID, username } = body;
  if (
    typeof sessionID === "string" && sessionID.length > 0 &&
    sessionID.length <= MAX_SESSION_ID_LENGTH
  ) {
    request.sessionID = sessionID;
  }
  if (username !== undefined && username !== null && username !== "") request.username = username;
  if (typeof body.token === "string" && body.token !== "") request.token = body.token;
  return request;
}

/** Checks a message's content: text, not blank, within `maxContentLength`. */
function messageContent(value: unknown, options: { maxContentLength: number }): string {
  const content = text(value, "content");
  if (content.trim() === "") {
    throw new ChatError("content_empty", "Message is empty");
  }
  if (content.length > options.maxContentLength) {
    throw new ChatError(
      "content_too_long",
      `Message is too long: ${content.length} characters, at most ${options.maxContentLength}`,
    );
  }
  return content;
}

/** Validates a `private message` payload. */
export function parseSendRequest(
  payload: unknown,
  options: { maxContentLength: number },
): SendMessageRequest {
  const body = plainObject(payload, ["content", "to", "clientId", "retry"]);
  if (body.content === undefined) {
    throw new ChatError("invalid_payload", `Field "content" is required`);
  }
  const content = messageContent(body.content, options);
  const to = recipient(body.to, "to");
  const request: SendMessageRequest = { content, to };
  if (body.clientId !== undefined) {
    const clientId = text(body.clientId, "clientId");
    if (
      clientId.length === 0 || clientId.length > LIMITS.maxClientIdLength ||
      !CLIENT_ID.test(clientId)
    ) {
      throw new ChatError(
        "invalid_payload",
        `Field "clientId" must be 1 to ${LIMITS.maxClientIdLength} letters, digits or ._:-`,
      );
    }
    request.clientId = clientId;
  }
  if (body.retry !== undefined) {
    if (typeof body.retry !== "boolean") {
      throw new ChatError(
        "invalid_payload",
        `Field "retry" must be true or false, got ${describe(body.retry)}`,
      );
    }
    request.retry = body.retry;
  }
  return request;
}

/** Validates a `load messages` payload. */
export function parseLoadRequest(
  payload: unknown,
): Required<Omit<LoadMessagesRequest, "before">> & {
  before?: string;
} {
  const body = plainObject(payload, ["with", "before", "limit"]);
  const peer = recipient(body.with, "with");
  let before: string | undefined;
  if (body.before !== undefined && body.before !== null) {
    if (!isMessageId(body.before)) {
      throw new ChatError("invalid_payload", `Field "before" must be a message id`);
    }
    before = body.before;
  }
  let limit: number = LIMITS.defaultPageSize;
  if (body.limit !== undefined && body.limit !== null) {
    if (
      typeof body.limit !== "number" || !Number.isInteger(body.limit) || body.limit < 1 ||
      body.limit > LIMITS.maxPageSize
    ) {
      throw new ChatError(
        "invalid_payload",
        `Field "limit" must be a whole number from 1 to ${LIMITS.maxPageSize}`,
      );
    }
    limit = body.limit;
  }
  return { with: peer, before, limit };
}

/** Validates a `delete account` payload: an empty object, or nothing at all. */
export function parseDeleteAccountRequest(payload: unknown): void {
  if (payload !== undefined) plainObject(payload, []);
}

/** Validates a `messages read` payload. */
export function parseReadRequest(payload: unknown): MessagesReadRequest {
  const body = plainObject(payload, ["with", "upTo"]);
  const peer = recipient(body.with, "with");
  if (!isMessageId(body.upTo)) {
    throw new ChatError("invalid_payload", `Field "upTo" must be a message id`);
  }
  return { with: peer, upTo: body.upTo };
}

/** Validates a `typing` payload. */
export function parseTypingRequest(payload: unknown): TypingRequest {
  const body = plainObject(payload, ["to"]);
  return { to: recipient(body.to, "to") };
}

/** Validates a `messages delivered` payload. */
export function parseDeliveredRequest(payload: unknown): MessagesDeliveredRequest {
  const body = plainObject(payload, ["with", "upTo"]);
  const peer = recipient(body.with, "with");
  if (!isMessageId(body.upTo)) {
    throw new ChatError("invalid_payload", `Field "upTo" must be a message id`);
  }
  return { with: peer, upTo: body.upTo };
}

function messageRef(body: Record<string, unknown>): { id: string; with?: string } {
  if (!isMessageId(body.id)) {
    throw new ChatError("invalid_payload", `Field "id" must be a message id`);
  }
  return body.with === undefined
    ? { id: body.id }
    : { id: body.id, with: recipient(body.with, "with") };
}

/** Validates an `edit message` payload; the content follows the rules of a send. */
export function parseEditRequest(
  payload: unknown,
  options: { maxContentLength: number },
): EditMessageRequest {
  const body = plainObject(payload, ["id", "content", "with"]);
  const ref = messageRef(body);
  if (body.content === undefined) {
    throw new ChatError("invalid_payload", `Field "content" is required`);
  }
  return { ...ref, content: messageContent(body.content, options) };
}

/** Validates a `delete message` payload. */
export function parseDeleteMessageRequest(payload: unknown): DeleteMessageRequest {
  return messageRef(plainObject(payload, ["id", "with"]));
}

/** Validates a `block user` or `unblock user` payload. */
export function parseBlockRequest(payload: unknown): BlockRequest {
  const body = plainObject(payload, ["userID"]);
  return { userID: recipient(body.userID, "userID") };
}

/** Validates a `preferences` payload. */
export function parsePreferencesRequest(payload: unknown): PreferencesRequest {
  const body = plainObject(payload, ["readReceipts"]);
  const request: PreferencesRequest = {};
  if (body.readReceipts !== undefined) {
    if (typeof body.readReceipts !== "boolean") {
      throw new ChatError(
        "invalid_payload",
        `Field "readReceipts" must be true or false, got ${describe(body.readReceipts)}`,
      );
    }
    request.readReceipts = body.readReceipts;
  }
  return request;
}

/** A `search users` request, checked: the folded query, the page size, the decoded cursor. */
export interface SearchQuery {
  /** The query as given, trimmed. */
  query: string;
  limit: number;
  after?: [string, string];
}

/** Validates a `search users` payload. `after` is the opaque `next` of an earlier page. */
export function parseSearchRequest(payload: unknown): SearchQuery {
  const body = plainObject(payload, ["query", "limit", "after"]) as Partial<SearchUsersRequest>;
  const query = text(body.query, "query").trim();
  if (query === "" || [...query].length > LIMITS.maxUsernameLength) {
    throw new ChatError(
      "invalid_payload",
      `Field "query" must be 1 to ${LIMITS.maxUsernameLength} characters`,
    );
  }
  let limit: number = LIMITS.defaultSearchLimit;
  if (body.limit !== undefined) {
    if (
      typeof body.limit !== "number" || !Number.isInteger(body.limit) || body.limit < 1 ||
      body.limit > LIMITS.maxSearchLimit
    ) {
      throw new ChatError(
        "invalid_payload",
        `Field "limit" must be a whole number from 1 to ${LIMITS.maxSearchLimit}`,
      );
    }
    limit = body.limit;
  }
  const request: SearchQuery = { query, limit };
  if (body.after !== undefined) request.after = decodeCursor(body.after);
  return request;
}

/** A page cursor: the last entry's folded name and user ID, as base64url JSON. */
export function encodeCursor(after: readonly [string, string]): string {
  return base64url(new TextEncoder().encode(JSON.stringify(after)));
}

function decodeCursor(value: unknown): [string, string] {
  const bad = () =>
    new ChatError("invalid_payload", `Field "after" is not a cursor this server gave`);
  if (typeof value !== "string" || value.length > 400 || !/^[A-Za-z0-9_-]*$/.test(value)) {
    throw bad();
  }
  try {
    const bin = atob(value.replaceAll("-", "+").replaceAll("_", "/"));
    const parsed = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))),
    );
    if (
      Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === "string" &&
      isUserId(parsed[1])
    ) return [parsed[0], parsed[1]];
  } catch {
    // not base64 or not JSON
  }
  throw bad();
}
