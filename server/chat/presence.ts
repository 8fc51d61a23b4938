/** Who is online: counted per user across that user's sockets (tabs). */

/** Presence as the chat domain sees it; a cluster implementation spans every node. */
export interface Presence {
  /** Counts one more socket of `userID`; true when it is the user's first anywhere. */
  add(userID: string): Promise<boolean>;
  /** Counts one socket fewer; true when it was the user's last anywhere. */
  remove(userID: string): Promise<boolean>;
  /** The subset of `userIDs` that is online. */
  onlineAmong(userIDs: readonly string[]): Promise<Set<string>>;
  /** Up to `limit` online user IDs. */
  list(limit: number): Promise<string[]>;
}

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
