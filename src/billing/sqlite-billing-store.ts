import Database from 'better-sqlite3';
import type {
  AccountRow, AuditDiscrepancy, AuditReport, BalanceRow, BillingStore, BillingTransaction, IdempotencyRecord, JournalEntry,
  JournalKind, JournalQuery, NewJournalEntry, ReservationRow, ReservationState, TransactionMode, VoucherRow,
} from './store.js';

/**
 * Every table is prefixed `billing_`, so the file can also hold other tables (the session store's).
 * The journal refuses UPDATE and DELETE by trigger: it is append-only even for a careless hand.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS billing_accounts (
  end_user TEXT PRIMARY KEY,
  currency TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS billing_balances (
  account TEXT NOT NULL REFERENCES billing_accounts(end_user),
  name TEXT NOT NULL,
  amount INTEGER NOT NULL,
  expires INTEGER,
  PRIMARY KEY (account, name)
);
CREATE TABLE IF NOT EXISTS billing_reservations (
  id TEXT PRIMARY KEY,
  account TEXT NOT NULL,
  balance TEXT NOT NULL,
  caller TEXT NOT NULL,
  reserved INTEGER NOT NULL,
  charged INTEGER NOT NULL,
  created INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'released', 'expired')),
  description TEXT,
  FOREIGN KEY (account, balance) REFERENCES billing_balances(account, name)
);
CREATE INDEX IF NOT EXISTS billing_reservations_open ON billing_reservations(account, state);
CREATE TABLE IF NOT EXISTS billing_journal (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  time INTEGER NOT NULL,
  account TEXT NOT NULL,
  balance TEXT NOT NULL,
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  reservation TEXT,
  caller TEXT,
  reference TEXT,
  description TEXT,
  code TEXT
);
CREATE INDEX IF NOT EXISTS billing_journal_account ON billing_journal(account, id);
CREATE INDEX IF NOT EXISTS billing_journal_reservation ON billing_journal(reservation) WHERE reservation IS NOT NULL;
CREATE TRIGGER IF NOT EXISTS billing_journal_no_update BEFORE UPDATE ON billing_journal
  BEGIN SELECT RAISE(ABORT, 'the billing journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS billing_journal_no_delete BEFORE DELETE ON billing_journal
  BEGIN SELECT RAISE(ABORT, 'the billing journal is append-only'); END;
CREATE TABLE IF NOT EXISTS billing_idempotency (
  caller TEXT NOT NULL,
  operation TEXT NOT NULL,
  reference TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  result TEXT NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY (caller, operation, reference)
);
CREATE TABLE IF NOT EXISTS billing_vouchers (
  id TEXT PRIMARY KEY,
  pin_hash TEXT,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  balance TEXT NOT NULL,
  validity_days INTEGER,
  created INTEGER NOT NULL,
  used_by TEXT,
  used_at INTEGER
);
`;

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v as bigint);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v as bigint));
const big = (v: unknown): bigint => BigInt(v as bigint);
const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function accountRow(r: Row): AccountRow {
  return { endUserIdentifier: String(r.end_user), currency: String(r.currency), created: num(r.created) };
}
function balanceRow(r: Row): BalanceRow {
  return { account: String(r.account), name: String(r.name), amount: big(r.amount), expires: numOrNull(r.expires) };
}
function reservationRow(r: Row): ReservationRow {
  return {
    id: String(r.id), account: String(r.account), balance: String(r.balance), caller: String(r.caller),
    reserved: big(r.reserved), charged: big(r.charged), created: num(r.created), expires: num(r.expires),
    state: String(r.state) as ReservationState, description: textOrNull(r.description),
  };
}
function journalEntry(r: Row): JournalEntry {
  return {
    id: num(r.id), time: num(r.time), account: String(r.account), balance: String(r.balance), kind: String(r.kind) as JournalKind,
    amount: big(r.amount), balanceAfter: big(r.balance_after), reservation: textOrNull(r.reservation), caller: textOrNull(r.caller),
    reference: textOrNull(r.reference), description: textOrNull(r.description), code: textOrNull(r.code),
  };
}
function voucherRow(r: Row): VoucherRow {
  return {
    id: String(r.id), pinHash: textOrNull(r.pin_hash), amount: big(r.amount), currency: String(r.currency), balance: String(r.balance),
    validityDays: numOrNull(r.validity_days), created: num(r.created), usedBy: textOrNull(r.used_by), usedAt: numOrNull(r.used_at),
  };
}

/** A transaction waiting for its turn. */
interface Queued {
  readonly mode: TransactionMode;
  readonly work: (tx: BillingTransaction) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** Transactions committed together at most (a bound on how long one batch holds the database). */
const MAX_GROUP = 256;

/**
 * The embedded billing store: better-sqlite3, WAL, synchronous=FULL (a committed transaction
 * survives the process being killed), writes under `BEGIN IMMEDIATE`, so two processes on one
 * file queue up instead of failing half-way. Integers are read as bigint (amounts use all 64
 * bits); the connection's own defaults are left alone.
 *
 * Group commit: the transactions requested while the event loop was busy (requests that arrived
 * together, or during the previous commit's fsync) run one after the other inside one database
 * transaction, each in its own savepoint, and are committed by one fsync. Each still succeeds
 * or fails on its own (a failure rolls back its savepoint only), and none is answered before
 * the commit that makes it durable; if that commit fails, every transaction of the group fails.
 */
export class SqliteBillingStore implements BillingStore {
  readonly db: Database.Database;
  private readonly ownsDatabase: boolean;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queue: Queued[] = [];
  /** A group is due or running; close() waits for the queue to empty. */
  private draining = false;
  private readonly drained: (() => void)[] = [];
  private closed = false;

  /** A file path (created if missing; ':memory:' for a throw-away store) or an open database whose other tables are left alone. */
  constructor(database: string | Database.Database, options: { readonly busyTimeoutMs?: number } = {}) {
    this.ownsDatabase = typeof database === 'string';
    this.db = typeof database === 'string' ? new Database(database) : database;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    this.db.exec(SCHEMA);
  }

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (s.reader) s.safeIntegers(true);
      this.statements.set(sql, s);
    }
    return s;
  }

  transaction<T>(mode: TransactionMode, work: (tx: BillingTransaction) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the billing store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ mode, work, resolve: resolve as (value: unknown) => void, reject });
      if (this.draining) return;
      this.draining = true;
      // After the I/O callbacks of this turn of the event loop: requests that arrived together join one group.
      setImmediate(() => void this.drain());
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commitGroup(this.queue.splice(0, MAX_GROUP));
    this.draining = false;
    for (const done of this.drained.splice(0)) done();
  }

  private async commitGroup(group: Queued[]): Promise<void> {
    const failAll = (err: unknown) => { for (const q of group) q.reject(err); };
    if (this.closed) return failAll(new Error('the billing store is closed'));
    try {
      this.db.exec(group.some((q) => q.mode === 'write') ? 'BEGIN IMMEDIATE' : 'BEGIN');
    } catch (err) {
      return failAll(err);
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    for (const q of group) {
      const tx = new SqliteTransaction((sql) => this.statement(sql));
      try {
        this.db.exec('SAVEPOINT orx_tx');
        const value = await q.work(tx);
        this.db.exec('RELEASE orx_tx');
        outcomes.push({ ok: true, value });
      } catch (err) {
        // SQLite ends the whole transaction on some errors (disk full, I/O): the group is lost.
        if (!this.db.inTransaction) return failAll(err);
        this.db.exec('ROLLBACK TO orx_tx; RELEASE orx_tx');
        outcomes.push({ ok: false, value: err });
      } finally {
        tx.end();
      }
    }
    try {
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      return failAll(err);
    }
    group.forEach((q, i) => (outcomes[i]!.ok ? q.resolve(outcomes[i]!.value) : q.reject(outcomes[i]!.value)));
  }

  async audit(): Promise<AuditReport> {
    return this.transaction('read', async () => {
      const found: AuditDiscrepancy[] = [];
      const add = (d: Partial<AuditDiscrepancy> & Pick<AuditDiscrepancy, 'check' | 'message'>) =>
        found.push({ account: null, balance: null, reservation: null, journalEntry: null, ...d });
      const all = (sql: string) => this.statement(sql).all() as Row[];
      for (const r of all(`SELECT b.account, b.name, b.amount, COALESCE(SUM(j.amount), 0) AS journal
          FROM billing_balances b LEFT JOIN billing_journal j ON j.account = b.account AND j.balance = b.name
          GROUP BY b.account, b.name HAVING b.amount != COALESCE(SUM(j.amount), 0)`)) {
        add({ check: 'balance-journal-sum', account: String(r.account), balance: String(r.name),
          message: `balance '${String(r.name)}' of ${String(r.account)} is ${big(r.amount)} minor units but its journal adds up to ${big(r.journal)}` });
      }
      for (const r of all(`SELECT id, account, balance, balance_after, running FROM (
          SELECT id, account, balance, balance_after, SUM(amount) OVER (PARTITION BY account, balance ORDER BY id) AS running FROM billing_journal)
          WHERE running != balance_after`)) {
        add({ check: 'journal-running-balance', account: String(r.account), balance: String(r.balance), journalEntry: num(r.id),
          message: `journal entry ${num(r.id)} says the balance became ${big(r.balance_after)} but the entries up to it add up to ${big(r.running)}` });
      }
      for (const r of all(`SELECT j.id, j.account, j.balance FROM billing_journal j
          LEFT JOIN billing_balances b ON b.account = j.account AND b.name = j.balance WHERE b.account IS NULL`)) {
        add({ check: 'journal-unknown-balance', account: String(r.account), balance: String(r.balance), journalEntry: num(r.id),
          message: `journal entry ${num(r.id)} is for balance '${String(r.balance)}' of ${String(r.account)}, which does not exist` });
      }
      for (const r of all('SELECT account, name, amount FROM billing_balances WHERE amount < 0')) {
        add({ check: 'negative-balance', account: String(r.account), balance: String(r.name),
          message: `balance '${String(r.name)}' of ${String(r.account)} is negative (${big(r.amount)} minor units)` });
      }
      for (const r of all(`SELECT r.id, r.account, r.balance, r.charged, -COALESCE(SUM(j.amount), 0) AS journal
          FROM billing_reservations r LEFT JOIN billing_journal j ON j.reservation = r.id
          GROUP BY r.id HAVING r.charged != -COALESCE(SUM(j.amount), 0)`)) {
        add({ check: 'reservation-journal-sum', account: String(r.account), balance: String(r.balance), reservation: String(r.id),
          message: `reservation ${String(r.id)} says ${big(r.charged)} minor units were charged but its journal entries took ${big(r.journal)}` });
      }
      for (const r of all(`SELECT id, account, balance, reserved, charged, state FROM billing_reservations
          WHERE reserved <= 0 OR charged < 0 OR charged > reserved`)) {
        add({ check: 'reservation-bounds', account: String(r.account), balance: String(r.balance), reservation: String(r.id),
          message: `reservation ${String(r.id)} has reserved ${big(r.reserved)} and charged ${big(r.charged)} minor units (charged must lie between 0 and reserved, reserved above 0)` });
      }
      for (const r of all(`SELECT r.id, r.account, r.balance FROM billing_reservations r
          LEFT JOIN billing_balances b ON b.account = r.account AND b.name = r.balance WHERE b.account IS NULL`)) {
        add({ check: 'reservation-unknown-balance', account: String(r.account), balance: String(r.balance), reservation: String(r.id),
          message: `reservation ${String(r.id)} holds balance '${String(r.balance)}' of ${String(r.account)}, which does not exist` });
      }
      for (const r of all(`SELECT j.id, j.account, j.balance, j.reservation FROM billing_journal j
          LEFT JOIN billing_reservations r ON r.id = j.reservation
          WHERE j.reservation IS NOT NULL AND (r.id IS NULL OR r.account != j.account OR r.balance != j.balance)`)) {
        add({ check: 'reservation-journal-account', account: String(r.account), balance: String(r.balance), reservation: String(r.reservation), journalEntry: num(r.id),
          message: `journal entry ${num(r.id)} names reservation ${String(r.reservation)}, which does not exist or holds another balance` });
      }
      const count = (table: string) => num((this.statement(`SELECT COUNT(*) AS n FROM ${table}`).get() as Row).n);
      return {
        ok: found.length === 0,
        accounts: count('billing_accounts'), balances: count('billing_balances'),
        journalEntries: count('billing_journal'), reservations: count('billing_reservations'),
        discrepancies: found,
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.draining) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.closed = true;
    if (this.ownsDatabase) this.db.close();
  }
}

class SqliteTransaction implements BillingTransaction {
  private ended = false;

  constructor(private readonly prepare: (sql: string) => Database.Statement) {}

  end(): void {
    this.ended = true;
  }

  private s(sql: string): Database.Statement {
    // A transaction object kept past its end would write outside any transaction: refuse.
    if (this.ended) throw new Error('billing: a store transaction was used after it ended');
    return this.prepare(sql);
  }

  async account(endUser: string): Promise<AccountRow | undefined> {
    const r = this.s('SELECT * FROM billing_accounts WHERE end_user = ?').get(endUser) as Row | undefined;
    return r && accountRow(r);
  }
  async accounts(): Promise<AccountRow[]> {
    return (this.s('SELECT * FROM billing_accounts ORDER BY end_user').all() as Row[]).map(accountRow);
  }
  async insertAccount(a: AccountRow): Promise<void> {
    this.s('INSERT INTO billing_accounts (end_user, currency, created) VALUES (?, ?, ?)').run(a.endUserIdentifier, a.currency, a.created);
  }
  async balances(account: string): Promise<BalanceRow[]> {
    return (this.s('SELECT * FROM billing_balances WHERE account = ? ORDER BY name').all(account) as Row[]).map(balanceRow);
  }
  async insertBalance(b: BalanceRow): Promise<void> {
    this.s('INSERT INTO billing_balances (account, name, amount, expires) VALUES (?, ?, ?, ?)').run(b.account, b.name, b.amount, b.expires);
  }
  async updateBalance(account: string, name: string, amount: bigint, expires: number | null): Promise<void> {
    const info = this.s('UPDATE billing_balances SET amount = ?, expires = ? WHERE account = ? AND name = ?').run(amount, expires, account, name);
    if (info.changes !== 1) throw new Error(`billing: balance '${name}' of ${account} does not exist`);
  }
  async appendJournal(e: NewJournalEntry): Promise<number> {
    const info = this.s(`INSERT INTO billing_journal (time, account, balance, kind, amount, balance_after, reservation, caller, reference, description, code)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(e.time, e.account, e.balance, e.kind, e.amount, e.balanceAfter, e.reservation, e.caller, e.reference, e.description, e.code);
    return Number(info.lastInsertRowid);
  }
  async journal(account: string, query: JournalQuery = {}): Promise<JournalEntry[]> {
    const rows = this.s('SELECT * FROM billing_journal WHERE account = ? AND time >= ? ORDER BY id DESC LIMIT ?')
      .all(account, query.since ?? Number.MIN_SAFE_INTEGER, query.limit ?? -1) as Row[];
    return rows.map(journalEntry);
  }
  async reservation(id: string): Promise<ReservationRow | undefined> {
    const r = this.s('SELECT * FROM billing_reservations WHERE id = ?').get(id) as Row | undefined;
    return r && reservationRow(r);
  }
  async openReservations(account: string): Promise<ReservationRow[]> {
    return (this.s("SELECT * FROM billing_reservations WHERE account = ? AND state = 'open' ORDER BY created, id").all(account) as Row[]).map(reservationRow);
  }
  async insertReservation(r: ReservationRow): Promise<void> {
    this.s(`INSERT INTO billing_reservations (id, account, balance, caller, reserved, charged, created, expires, state, description)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.id, r.account, r.balance, r.caller, r.reserved, r.charged, r.created, r.expires, r.state, r.description);
  }
  async updateReservation(id: string, c: { reserved: bigint; charged: bigint; state: ReservationState }): Promise<void> {
    const info = this.s('UPDATE billing_reservations SET reserved = ?, charged = ?, state = ? WHERE id = ?').run(c.reserved, c.charged, c.state, id);
    if (info.changes !== 1) throw new Error(`billing: reservation ${id} does not exist`);
  }
  async expireReservations(now: number, account?: string): Promise<number> {
    const info = account === undefined
      ? this.s("UPDATE billing_reservations SET state = 'expired' WHERE state = 'open' AND expires <= ?").run(now)
      : this.s("UPDATE billing_reservations SET state = 'expired' WHERE account = ? AND state = 'open' AND expires <= ?").run(account, now);
    return info.changes;
  }
  async idempotencyRecord(caller: string, operation: string, reference: string): Promise<IdempotencyRecord | undefined> {
    const r = this.s('SELECT fingerprint, result, time FROM billing_idempotency WHERE caller = ? AND operation = ? AND reference = ?')
      .get(caller, operation, reference) as Row | undefined;
    return r && { fingerprint: String(r.fingerprint), result: String(r.result), time: num(r.time) };
  }
  async saveIdempotencyRecord(caller: string, operation: string, reference: string, record: IdempotencyRecord): Promise<void> {
    this.s('INSERT INTO billing_idempotency (caller, operation, reference, fingerprint, result, time) VALUES (?, ?, ?, ?, ?, ?)')
      .run(caller, operation, reference, record.fingerprint, record.result, record.time);
  }
  async voucher(id: string): Promise<VoucherRow | undefined> {
    const r = this.s('SELECT * FROM billing_vouchers WHERE id = ?').get(id) as Row | undefined;
    return r && voucherRow(r);
  }
  async insertVoucher(v: VoucherRow): Promise<void> {
    this.s(`INSERT INTO billing_vouchers (id, pin_hash, amount, currency, balance, validity_days, created, used_by, used_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(v.id, v.pinHash, v.amount, v.currency, v.balance, v.validityDays, v.created, v.usedBy, v.usedAt);
  }
  async markVoucherUsed(id: string, usedBy: string, usedAt: number): Promise<void> {
    const info = this.s('UPDATE billing_vouchers SET used_by = ?, used_at = ? WHERE id = ? AND used_by IS NULL').run(usedBy, usedAt, id);
    if (info.changes !== 1) throw new Error(`billing: voucher ${id} does not exist or is already used`);
  }
}
