/**
 * The service's accounts: who may call it (HTTP Basic, scrypt-hashed passwords), what each may do
 * (settings), and each account's Signal Rules (call notification and direction subscriptions).
 * Embedded SQLite by default (better-sqlite3, WAL, synchronous=FULL); tables are prefixed
 * `parlayx_` so the file can be shared with the session and billing stores.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;

export interface AccountSettings {
  /** May the account add and remove its own Signal Rules (start/stop…Notification)? Default false. */
  readonly mayChangeSignalRules: boolean;
  /**
   * Addresses the account owns: it may subscribe to call events only for these (URIs or bare
   * numbers; "*" for any). Default none.
   */
  readonly addresses: readonly string[];
  /** May the account place and control calls (Third Party Call)? Default true. */
  readonly mayControlCalls: boolean;
  /** Which end users' money the account may move: none, the account's own addresses, or any. Default "own". */
  readonly billing: 'none' | 'own' | 'any';
}

export const DEFAULT_SETTINGS: AccountSettings = Object.freeze({ mayChangeSignalRules: false, addresses: Object.freeze([]), mayControlCalls: true, billing: 'own' });

export interface Account {
  readonly name: string;
  readonly settings: AccountSettings;
}

export type RuleKind = 'notification' | 'direction';
export type CallCriterion = 'Busy' | 'NotReachable' | 'NoAnswer' | 'CalledNumber';
export const CALL_CRITERIA: readonly CallCriterion[] = ['Busy', 'NotReachable', 'NoAnswer', 'CalledNumber'];

/** One subscription, as the account's Signal Rule. */
export interface SignalRule {
  readonly id: number;
  readonly account: string;
  readonly kind: RuleKind;
  /** Normalised addresses (see normaliseAddress), sorted. */
  readonly addresses: readonly string[];
  readonly criteria: readonly CallCriterion[];
  /** Where events go: a SOAP endpoint, or a JSON notifyURL for rules made through the JSON mirror. */
  readonly endpoint: string;
  readonly protocol: 'soap' | 'json';
  readonly interfaceName: string;
  readonly correlator: string;
  readonly created: string;
}

export class AccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountError';
  }
}

/**
 * The part of an address that identifies a party: the number of a tel: URI, the user of a sip:
 * URI, a bare number as it is. Visual separators of tel: numbers are dropped (RFC 3966).
 */
export function normaliseAddress(uri: string): string {
  const tel = /^tel:([^;]+)/i.exec(uri);
  if (tel) return tel[1]!.replace(/[-.()\s]/g, '');
  const sip = /^sips?:([^@;]+)@/i.exec(uri);
  if (sip) return decodeURIComponent(sip[1]!);
  return uri.trim();
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

function hashPassword(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Off the event loop (libuv's pool): a stream of wrong passwords does not stall the service. */
async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return timingSafeEqual(expected, actual);
}

/**
 * Checked for unknown names too, so the answer time does not tell which accounts exist. Made
 * with the first store: importing the engine must not cost a scrypt (tens of milliseconds).
 */
let decoyHash: string | null = null;
const decoy = (): string => (decoyHash ??= hashPassword(randomBytes(16).toString('base64')));

/** How long a verified password stays verified in memory (scrypt is slow on purpose; requests are not). */
const VERIFIED_TTL_MS = 60_000;

export class AccountStore {
  private readonly db: Database.Database;
  private readonly ownsDb: boolean;
  private readonly verified = new Map<string, { name: string; until: number }>();

  constructor(db: string | Database.Database) {
    decoy(); // now, so that the first unknown name is not answered slower than the others
    this.ownsDb = typeof db === 'string';
    this.db = typeof db === 'string' ? new Database(db) : db;
    if (this.ownsDb) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS parlayx_accounts (
        name TEXT PRIMARY KEY,
        password TEXT NOT NULL,
        settings TEXT NOT NULL,
        created TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS parlayx_signal_rules (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL REFERENCES parlayx_accounts(name) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        addresses TEXT NOT NULL,
        criteria TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        protocol TEXT NOT NULL,
        interface_name TEXT NOT NULL,
        correlator TEXT NOT NULL,
        created TEXT NOT NULL
      );`);
  }

  /** Creates or replaces an account (a new password or new settings). */
  putAccount(name: string, password: string, settings: Partial<AccountSettings> = {}): Account {
    if (!/^[A-Za-z0-9._@+-]{1,64}$/.test(name)) throw new AccountError(`account name '${name}' must be 1-64 letters, digits or . _ @ + -`);
    if (password.length < 4) throw new AccountError(`the password of '${name}' is too short (at least 4 characters)`);
    // Settings not given keep their stored values (re-creating an account at start must not reset it).
    const full = checkSettings({ ...DEFAULT_SETTINGS, ...this.account(name)?.settings, ...settings }, name);
    this.db.prepare(`INSERT INTO parlayx_accounts (name, password, settings, created) VALUES (?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET password = excluded.password, settings = excluded.settings`)
      .run(name, hashPassword(password), JSON.stringify(full), new Date().toISOString());
    for (const [key, v] of this.verified) if (v.name === name) this.verified.delete(key);
    return { name, settings: full };
  }

  account(name: string): Account | undefined {
    const row = this.db.prepare('SELECT name, settings FROM parlayx_accounts WHERE name = ?').get(name) as { name: string; settings: string } | undefined;
    return row ? { name: row.name, settings: { ...DEFAULT_SETTINGS, ...(JSON.parse(row.settings) as Partial<AccountSettings>) } } : undefined;
  }

  accounts(): Account[] {
    return (this.db.prepare('SELECT name FROM parlayx_accounts ORDER BY name').all() as { name: string }[]).map((r) => this.account(r.name)!);
  }

  /** The account these credentials open, or null. */
  async authenticate(name: string, password: string): Promise<Account | null> {
    const key = createHash('sha256').update(name).update('\0').update(password).digest('base64');
    const now = Date.now();
    const hit = this.verified.get(key);
    if (hit && hit.until > now) return this.account(hit.name) ?? null;
    const row = this.db.prepare('SELECT password FROM parlayx_accounts WHERE name = ?').get(name) as { password: string } | undefined;
    const valid = await verifyPassword(password, row?.password ?? decoy());
    if (!row || !valid) return null;
    if (this.verified.size > 10_000) this.verified.clear();
    this.verified.set(key, { name, until: now + VERIFIED_TTL_MS });
    return this.account(name) ?? null;
  }

  addRule(rule: Omit<SignalRule, 'id' | 'created'>): SignalRule {
    const created = new Date().toISOString();
    const info = this.db.prepare(`INSERT INTO parlayx_signal_rules (account, kind, addresses, criteria, endpoint, protocol, interface_name, correlator, created)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(rule.account, rule.kind, JSON.stringify(rule.addresses), JSON.stringify(rule.criteria), rule.endpoint, rule.protocol, rule.interfaceName, rule.correlator, created);
    return { ...rule, id: Number(info.lastInsertRowid), created };
  }

  removeRule(id: number): void {
    this.db.prepare('DELETE FROM parlayx_signal_rules WHERE id = ?').run(id);
  }

  rules(filter: { account?: string; kind?: RuleKind } = {}): SignalRule[] {
    const rows = this.db.prepare(`SELECT * FROM parlayx_signal_rules WHERE (@account IS NULL OR account = @account) AND (@kind IS NULL OR kind = @kind) ORDER BY id`)
      .all({ account: filter.account ?? null, kind: filter.kind ?? null }) as Record<string, string | number>[];
    return rows.map((r) => ({
      id: Number(r.id), account: String(r.account), kind: r.kind as RuleKind,
      addresses: JSON.parse(String(r.addresses)) as string[], criteria: JSON.parse(String(r.criteria)) as CallCriterion[],
      endpoint: String(r.endpoint), protocol: r.protocol as 'soap' | 'json', interfaceName: String(r.interface_name),
      correlator: String(r.correlator), created: String(r.created),
    }));
  }

  close(): void {
    if (this.ownsDb) this.db.close();
  }
}

function checkSettings(s: AccountSettings, name: string): AccountSettings {
  const problems: string[] = [];
  if (typeof s.mayChangeSignalRules !== 'boolean') problems.push('mayChangeSignalRules must be true or false');
  if (typeof s.mayControlCalls !== 'boolean') problems.push('mayControlCalls must be true or false');
  if (!Array.isArray(s.addresses) || s.addresses.some((a) => typeof a !== 'string' || a === '')) problems.push('addresses must be a list of addresses (or "*")');
  if (!['none', 'own', 'any'].includes(s.billing)) problems.push('billing must be "none", "own" or "any"');
  if (problems.length) throw new AccountError(`account '${name}': ${problems.join('; ')}`);
  return { mayChangeSignalRules: s.mayChangeSignalRules, addresses: [...s.addresses], mayControlCalls: s.mayControlCalls, billing: s.billing };
}

/** Does the account own this address (for subscriptions and billing)? */
export function ownsAddress(account: Account, address: string): boolean {
  const wanted = normaliseAddress(address);
  return account.settings.addresses.some((a) => a === '*' || normaliseAddress(a) === wanted);
}
