/** Who is online in one process: counted per user across that user's sockets (tabs). */

import type { Presence } from "./ports.ts";

/** Presence of one process: a socket count per user. */
export class LocalPresence implements Presence {
  #sockets = new Map<string, number>();

  add(userID: string): Promise<boolean> {
    const n = this.#sockets.get(userID) ?? 0;
    this.#sockets.set(userID, n + 1);
    return Promise.resolve(n === 0);
  }

  remove(userID: string): Promise<boolean> {
    const n = this.#sockets.get(userID) ?? 0;
    if (n <= 1) {
      this.#sockets.delete(userID);
      return Promise.resolve(n === 1);
    }
    this.#sockets.set(userID, n - 1);
    return Promise.resolve(false);
  }

  onlineAmong(userIDs: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(userIDs.filter((id) => this.#sockets.has(id))));
  }

  list(limit: number): Promise<string[]> {
    const ids: string[] = [];
    for (const id of this.#sockets.keys()) {
      if (ids.length >= limit) break;
      ids.push(id);
    }
    return Promise.resolve(ids);
  }

  /** Number of users online here. */
  get size(): number {
    return this.#sockets.size;
  }
}
