import type { SessionSnapshot, SessionStore } from '../runtime/snapshot.js';

/** A store in memory, for tests and for embedding without persistence across processes. */
export class MemorySessionStore implements SessionStore {
  private readonly rows = new Map<string, string>();
  async save(snapshot: SessionSnapshot): Promise<void> {
    this.rows.set(snapshot.sessionId, JSON.stringify(snapshot));
  }
  async delete(sessionId: string): Promise<void> {
    this.rows.delete(sessionId);
  }
  async loadAll(): Promise<SessionSnapshot[]> {
    return [...this.rows.values()].map((r) => JSON.parse(r) as SessionSnapshot);
  }
  async close(): Promise<void> {
    this.rows.clear();
  }
}
