/**
 * Where the billing core keeps its data. The manager does all the arithmetic and every check;
 * a store only reads and writes rows inside one transaction at a time, so a server database can
 * implement the same interface (the methods are async for it) without repeating any rule.
 * Times are milliseconds since the epoch; amounts are bigint minor units.
 */

export interface AccountRow {
  readonly endUserIdentifier: string;
  /** ISO 4217 code, upper case: every balance of the account is in this currency. */
  readonly currency: string;
  readonly created: number;
}

export interface BalanceRow {
  readonly account: string;
  /** The default balance is named "". */
  readonly name: string;
  readonly amount: bigint;
  /** When its credit expires; null: no expiry set. */
  readonly expires: number | null;
}

/** open: holds credit; released: closed by its owner; expired: closed by the clock (swept or touched). */
export type ReservationState = 'open' | 'released' | 'expired';

export interface ReservationRow {
  readonly id: string;
  readonly account: string;
  readonly balance: string;
  /** The application that made it: only it may extend, charge or release it. */
  readonly caller: string;
  /** Everything reserved so far (the first amount plus every additional amount). */
  readonly reserved: bigint;
  /** What chargeReservation took from the balance so far (never more than reserved). */
  readonly charged: bigint;
  readonly created: number;
  readonly expires: number;
  readonly state: ReservationState;
  readonly description: string | null;
}

/** What a journal entry records: every change of a balance's amount is exactly one entry. */
export type JournalKind = 'charge' | 'refund' | 'split-charge' | 'reservation-charge' | 'credit' | 'debit' | 'voucher';

export interface NewJournalEntry {
  readonly time: number;
  readonly account: string;
  readonly balance: string;
  readonly kind: JournalKind;
  /** Signed: what the entry adds to the balance (a charge is negative). */
  readonly amount: bigint;
  /** The balance's amount once this entry is applied. */
  readonly balanceAfter: bigint;
  readonly reservation: string | null;
  readonly caller: string | null;
  readonly reference: string | null;
  readonly description: string | null;
  /** The charging code of a ParlayX ChargingInformation, when given. */
  readonly code: string | null;
}

export interface JournalEntry extends NewJournalEntry {
  /** Increasing in the order entries were written. */
  readonly id: number;
}

/** A request already applied: what it was (its fingerprint) and what it answered. */
export interface IdempotencyRecord {
  readonly fingerprint: string;
  /** The result as JSON, returned again to a retry. */
  readonly result: string;
  readonly time: number;
}

export interface VoucherRow {
  readonly id: string;
  /** Salted hash of the PIN (see voucher-pin.ts); null: no PIN needed. */
  readonly pinHash: string | null;
  readonly amount: bigint;
  readonly currency: string;
  /** The balance it credits. */
  readonly balance: string;
  /** Days of validity the credit gets (extends the balance's expiry), or null. */
  readonly validityDays: number | null;
  readonly created: number;
  readonly usedBy: string | null;
  readonly usedAt: number | null;
}

export interface JournalQuery {
  /** Entries at or after this time only. */
  readonly since?: number;
  /** At most this many, newest first. */
  readonly limit?: number;
}

/** The reads and writes of one transaction. Using it after the transaction ended throws. */
export interface BillingTransaction {
  account(endUserIdentifier: string): Promise<AccountRow | undefined>;
  accounts(): Promise<AccountRow[]>;
  insertAccount(account: AccountRow): Promise<void>;
  balances(account: string): Promise<BalanceRow[]>;
  insertBalance(balance: BalanceRow): Promise<void>;
  updateBalance(account: string, name: string, amount: bigint, expires: number | null): Promise<void>;
  /** Appends one entry and returns its id. Entries are never changed or removed. */
  appendJournal(entry: NewJournalEntry): Promise<number>;
  /** Newest first. */
  journal(account: string, query?: JournalQuery): Promise<JournalEntry[]>;
  reservation(id: string): Promise<ReservationRow | undefined>;
  /** Reservations of an account in state open (including those past their expiry not yet marked). */
  openReservations(account: string): Promise<ReservationRow[]>;
  insertReservation(reservation: ReservationRow): Promise<void>;
  updateReservation(id: string, change: { readonly reserved: bigint; readonly charged: bigint; readonly state: ReservationState }): Promise<void>;
  /** Marks open reservations whose expiry is at or before `now` as expired (of one account, or all); returns how many. */
  expireReservations(now: number, account?: string): Promise<number>;
  idempotencyRecord(caller: string, operation: string, reference: string): Promise<IdempotencyRecord | undefined>;
  saveIdempotencyRecord(caller: string, operation: string, reference: string, record: IdempotencyRecord): Promise<void>;
  voucher(id: string): Promise<VoucherRow | undefined>;
  insertVoucher(voucher: VoucherRow): Promise<void>;
  markVoucherUsed(id: string, usedBy: string, usedAt: number): Promise<void>;
}

/** One way the data breaks the invariants (see BillingStore.audit). */
export interface AuditDiscrepancy {
  readonly check:
    | 'balance-journal-sum' | 'journal-running-balance' | 'journal-unknown-balance' | 'negative-balance'
    | 'reservation-journal-sum' | 'reservation-bounds' | 'reservation-unknown-balance' | 'reservation-journal-account';
  readonly account: string | null;
  readonly balance: string | null;
  readonly reservation: string | null;
  readonly journalEntry: number | null;
  readonly message: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly accounts: number;
  readonly balances: number;
  readonly journalEntries: number;
  readonly reservations: number;
  readonly discrepancies: readonly AuditDiscrepancy[];
}

export type TransactionMode = 'read' | 'write';

export interface BillingStore {
  /**
   * Runs `work` as one database transaction: committed when it resolves, rolled back when it
   * throws; the promise settles once the outcome is durable. Transactions of one store run one
   * after the other, in the order requested (a store may commit several together, each still
   * succeeding or failing on its own). `work` must await only the transaction's own methods (it
   * holds the database while it runs).
   */
  transaction<T>(mode: TransactionMode, work: (tx: BillingTransaction) => Promise<T>): Promise<T>;
  /**
   * Checks the invariants: every balance equals the sum of its journal entries, every entry's
   * balance_after is the running sum, no balance is negative, every reservation's charged
   * amount equals what its journal entries took and lies between 0 and what it reserved.
   */
  audit(): Promise<AuditReport>;
  close(): Promise<void>;
}
