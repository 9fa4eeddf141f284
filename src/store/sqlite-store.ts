import Database from 'better-sqlite3';
import type { SessionSnapshot, SessionStore } from '../runtime/snapshot.js';

/**
 * The embedded session store: one SQLite file (better-sqlite3), one row per live session, written
 * in WAL mode with synchronous=FULL so a saved snapshot survives the process being killed. The
 * calls are synchronous underneath; the interface is async so a server store can replace it.
 */
export class SqliteSessionStore implements SessionStore {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement<[string, string, string, number]>;
  private readonly remove: Database.Statement<[string]>;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS sessions (
      id TEXT PRIMARY KEY,
      chart TEXT NOT NULL,
      snapshot TEXT NOT NULL,
      saved_at INTEGER NOT NULL
    )`);
    this.upsert = this.db.prepare(`INSERT INTO sessions (id, chart, snapshot, saved_at) VALUES (?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET chart = excluded.chart, snapshot = excluded.snapshot, saved_at = excluded.saved_at`);
    this.remove = this.db.prepare('DELETE FROM sessions WHERE id = ?');
  }

  async save(snapshot: SessionSnapshot): Promise<void> {
    this.upsert.run(snapshot.sessionId, snapshot.chart.file, JSON.stringify(snapshot), Date.now());
  }

  async delete(sessionId: string): Promise<void> {
    this.remove.run(sessionId);
  }

  async loadAll(): Promise<SessionSnapshot[]> {
    const rows = this.db.prepare('SELECT id, snapshot FROM sessions ORDER BY saved_at').all() as { id: string; snapshot: string }[];
    return rows.map((r) => {
      try {
        return JSON.parse(r.snapshot) as SessionSnapshot;
      } catch (err) {
        throw new Error(`session ${r.id}: the stored snapshot is not valid JSON (${(err as Error).message})`);
      }
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

