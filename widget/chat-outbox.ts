/// <reference lib="dom" />
/**
 * What the chat keeps on this device, in localStorage: the session record under the storage
 * key and the outbox of unsent messages under `<key>:outbox`. Each is parsed once and held
 * in memory; other tabs' writes arrive through the `storage` event. Storage that is full or
 * disabled (private mode, sandboxed frames) never breaks the chat: it then lasts as long as
 * the page.
 */
import type { SessionInfo, WireError } from "../server/protocol.ts";

/** One message written here and not yet stored by the server. */
export interface OutboxEntry {
  /** The idempotency key: sending it again never stores it twice. */
  clientId: string;
  /** The recipient's userID. */
  to: string;
  /** The text as written. */
  content: string;
  /** When it was written (ms since the epoch). */
  timestamp: number;
  /** `pending` until sent; `failed` once the server refused it or never answered. */
  state: "pending" | "failed";
  /** Why it failed. */
  error?: WireError;
}

/** The outbox as stored: the entries of one user, so another user signing in never sends them. */
interface StoredOutbox {
  userID: string;
  entries: OutboxEntry[];
}

/** What changed in storage, as `onChange` reports it. */
export type StoredRecord = "session" | "outbox";

/** The page's localStorage, or undefined where reading it throws (sandboxed frames, disabled storage). */
function pageStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** One stored JSON value: its text as last seen, and what that text parsed to. */
class StoredValue<T> {
  /** The localStorage key. */
  readonly key: string;
  #storage: Storage | undefined;
  #raw: string | null = null;
  #value: T | undefined;
  #valid: (value: unknown) => value is T;

  constructor(storage: Storage | undefined, key: string, valid: (value: unknown) => value is T) {
    this.#storage = storage;
    this.key = key;
    this.#valid = valid;
  }

  get value(): T | undefined {
    return this.#value;
  }

  /** Parses the stored text again if it differs from what was seen; true when the value changed. */
  reload(): boolean {
    const raw = this.#read();
    if (raw === undefined || raw === this.#raw) return false;
    this.#raw = raw;
    try {
      const parsed: unknown = raw === null ? undefined : JSON.parse(raw);
      this.#value = this.#valid(parsed) ? parsed : undefined;
    } catch {
      this.#value = undefined;
    }
    return true;
  }

  /** Keeps `value` in memory and writes it; `undefined` removes the record. */
  write(value: T | undefined): void {
    this.#value = value;
    const raw = value === undefined ? null : JSON.stringify(value);
    try {
      if (raw === null) this.#storage?.removeItem(this.key);
      else this.#storage?.setItem(this.key, raw);
      this.#raw = raw;
    } catch {
      // Full or disabled: the value lives on in memory for this page, and what storage
      // still holds is what a later reload compares with, so it does not replace the value.
      this.#raw = this.#read() ?? this.#raw;
    }
  }

  /** The stored text, null when there is none, undefined when storage cannot be read. */
  #read(): string | null | undefined {
    try {
      return this.#storage ? this.#storage.getItem(this.key) : undefined;
    } catch {
      return undefined;
    }
  }
}

function isSession(value: unknown): value is SessionInfo {
  const v = value as SessionInfo | undefined;
  return typeof v?.sessionID === "string" && typeof v.userID === "string";
}

function isOutbox(value: unknown): value is StoredOutbox {
  const v = value as StoredOutbox | undefined;
  return typeof v?.userID === "string" && Array.isArray(v.entries);
}

/**
 * The session record and the outbox of one storage key. `open()` reads both and starts
 * following other tabs; `close()` stops following.
 */
export class ChatOutbox {
  #session: StoredValue<SessionInfo>;
  #outbox: StoredValue<StoredOutbox>;
  #onChange: (record: StoredRecord) => void;
  #listening = false;

  constructor(
    storageKey: string,
    options: { storage?: Storage; onChange?: (record: StoredRecord) => void } = {},
  ) {
    const storage = "storage" in options ? options.storage : pageStorage();
    this.#session = new StoredValue(storage, storageKey, isSession);
    this.#outbox = new StoredValue(storage, `${storageKey}:outbox`, isOutbox);
    this.#onChange = options.onChange ?? (() => {});
  }

  /** Reads both records and follows other tabs' changes to them. */
  open(): void {
    this.#session.reload();
    this.#outbox.reload();
    if (!this.#listening) globalThis.addEventListener?.("storage", this.#onStorage);
    this.#listening = true;
  }

  /** Stops following other tabs. */
  close(): void {
    globalThis.removeEventListener?.("storage", this.#onStorage);
    this.#listening = false;
  }

  /** The stored session, if any. */
  get session(): SessionInfo | undefined {
    return this.#session.value;
  }

  /** Stores the session (or, with `undefined`, forgets it). */
  saveSession(session: SessionInfo | undefined): void {
    this.#session.write(session);
  }

  /** The unsent messages of `userID`, oldest first. */
  entries(userID: string | undefined): readonly OutboxEntry[] {
    const stored = this.#outbox.value;
    return stored && userID !== undefined && stored.userID === userID ? stored.entries : [];
  }

  /** Applies `change` to the unsent messages of `userID` and stores the result. */
  update(userID: string, change: (entries: readonly OutboxEntry[]) => OutboxEntry[]): void {
    // Another widget of this page with the same key may have written since (no `storage`
    // event tells a page of its own writes): change what is stored, not an older copy.
    this.#outbox.reload();
    const entries = change(this.entries(userID));
    this.#outbox.write(entries.length ? { userID, entries } : undefined);
  }

  /** Forgets the session and the outbox on this device. */
  clear(): void {
    this.#session.write(undefined);
    this.#outbox.write(undefined);
  }

  #onStorage = (event: StorageEvent): void => {
    // `key` is null when another tab cleared all of storage.
    if (event.key === null || event.key === this.#session.key) {
      if (this.#session.reload()) this.#onChange("session");
    }
    if (event.key === null || event.key === this.#outbox.key) {
      if (this.#outbox.reload()) this.#onChange("outbox");
    }
  };
}
