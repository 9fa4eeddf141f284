// The crash workload, shared by the manager-level crash test and the ParlayX (HTTP) one: a
// deterministic plan of charges and refunds with referenceCodes, a runner that performs it with
// several requests in flight and client retries (duplicates sent at once, and again after the
// answer), and the checks made after the process was killed and the plan re-run.

import assert from 'node:assert/strict';
import { BillingManager, SqliteBillingStore, parseAmount } from '../../src/index.js';

/** One request of the plan. */
export interface PlannedOperation {
  readonly index: number;
  readonly op: 'charge' | 'refund';
  readonly endUserIdentifier: string;
  /** Decimal text (EUR). */
  readonly amount: string;
  readonly referenceCode: string;
}

/** What a performed request answered (the fields every front end reports). */
export interface Acknowledgement {
  readonly referenceCode: string;
  readonly transactionId: string;
  readonly balanceAfter: string;
}

export const CRASH_CURRENCY = 'EUR';
/** Every account starts with this much, enough for every charge of the plan to succeed. */
export const CRASH_INITIAL_CREDIT = '100000.00';

/** A small deterministic generator (mulberry32): the same seed gives the same plan in every process. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Creates the accounts in a fresh billing database, each credited with CRASH_INITIAL_CREDIT. */
export async function createCrashAccounts(db: string, accounts: readonly string[]): Promise<void> {
  const setup = new BillingManager({ store: new SqliteBillingStore(db) });
  try {
    for (const [i, id] of accounts.entries()) {
      await setup.createAccount(id, { currency: CRASH_CURRENCY });
      await setup.balanceUpdate({ caller: 'operator', endUserIdentifier: id, referenceCode: `initial-${i}`, amount: CRASH_INITIAL_CREDIT });
    }
  } finally {
    await setup.close();
  }
}

export function crashAccounts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `tel:+3360000${String(i).padStart(4, '0')}`);
}

/** `length` operations over the accounts: about 70 % charges, amounts 0.01–5.00 EUR. */
export function crashPlan(length: number, accounts: readonly string[], seed = 7): PlannedOperation[] {
  const next = random(seed);
  return Array.from({ length }, (_, index) => {
    const cents = 1 + Math.floor(next() * 500);
    return {
      index,
      op: next() < 0.7 ? 'charge' : 'refund',
      endUserIdentifier: accounts[Math.floor(next() * accounts.length)],
      amount: `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      referenceCode: `crash-${seed}-${index}`,
    };
  });
}

/** What each account holds once every operation of the plan is applied exactly once (minor units). */
export function expectedBalances(plan: readonly PlannedOperation[], accounts: readonly string[]): Map<string, bigint> {
  const toMinor = (text: string) => BigInt(text.replace('.', ''));
  const result = new Map(accounts.map((a) => [a, toMinor(CRASH_INITIAL_CREDIT)] as const));
  for (const p of plan) result.set(p.endUserIdentifier, result.get(p.endUserIdentifier)! + (p.op === 'charge' ? -1n : 1n) * toMinor(p.amount));
  return result;
}

export interface RunPlanOptions {
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Every n-th operation is sent twice at once and once more after its answer (client retries). */
  readonly duplicateEvery: number;
  /** Called once per operation, after its (first) answer: print the acknowledgement here. */
  readonly onAck: (operation: PlannedOperation, ack: Acknowledgement) => void;
  /** Transport failures (not domain errors) are retried this many times. */
  readonly transportRetries?: number;
  readonly isTransportError?: (err: unknown) => boolean;
}

/**
 * Performs the plan. A retried request must be answered with the first answer (same
 * transactionId); anything else throws, as does any domain error (the plan never overdraws).
 */
export async function runPlan(plan: readonly PlannedOperation[], perform: (operation: PlannedOperation) => Promise<Acknowledgement>, options: RunPlanOptions): Promise<void> {
  let next = 0;
  const attempt = async (operation: PlannedOperation): Promise<Acknowledgement> => {
    for (let tries = 0; ; tries++) {
      try {
        return await perform(operation);
      } catch (err) {
        if (tries >= (options.transportRetries ?? 0) || !options.isTransportError?.(err)) throw err;
      }
    }
  };
  const same = (a: Acknowledgement, b: Acknowledgement, operation: PlannedOperation) => {
    if (a.transactionId !== b.transactionId || a.balanceAfter !== b.balanceAfter) {
      throw new Error(`retry of ${operation.referenceCode} answered ${JSON.stringify(b)}, the first answer was ${JSON.stringify(a)}`);
    }
  };
  const lane = async () => {
    while (next < plan.length) {
      const operation = plan[next++];
      const duplicate = operation.index % options.duplicateEvery === 0;
      const answers = await Promise.all(duplicate ? [attempt(operation), attempt(operation)] : [attempt(operation)]);
      if (answers[1]) same(answers[0], answers[1], operation);
      options.onAck(operation, answers[0]);
      if (duplicate) same(answers[0], await attempt(operation), operation);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
}

/** `ack <referenceCode> <transactionId> <balanceAfter>` lines of a worker's stdout (a torn last line is ignored). */
export function parseAcks(stdout: string): Acknowledgement[] {
  const lines = stdout.split('\n');
  lines.pop();
  return lines.filter((l) => l.startsWith('ack ')).map((l) => {
    const [, referenceCode, transactionId, balanceAfter] = l.split(' ');
    return { referenceCode, transactionId, balanceAfter };
  });
}

export function formatAck(ack: Acknowledgement): string {
  return `ack ${ack.referenceCode} ${ack.transactionId} ${ack.balanceAfter}\n`;
}

/** Every account's default balance is what applying each operation of the plan exactly once gives. */
export async function assertBalancesAsPlanned(manager: BillingManager, plan: readonly PlannedOperation[], accounts: readonly string[]): Promise<void> {
  const expected = expectedBalances(plan, accounts);
  for (const id of accounts) {
    const balance = (await manager.getBalance(id)).balances[0]!;
    assert.equal(parseAmount(balance.amount, CRASH_CURRENCY, 'non-negative'), expected.get(id), `${id}: every request applied exactly once`);
  }
}
