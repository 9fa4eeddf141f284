// The manager-level crash worker: performs a crash plan (billing-crash.ts) against a SQLite
// billing database and prints one `ack` line per operation once its transaction committed, then
// `done`. The crash test SIGKILLs it mid-stream and runs it again on the same database.
//
//   node dist/test/support/billing-crash-worker.js --db <file> --operations <n> [--accounts <n>]
//        [--seed <n>] [--concurrency <n>] [--duplicate-every <n>] [--caller <name>]
import { writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BillingManager, SqliteBillingStore } from '../../src/index.js';
import { crashAccounts, crashPlan, formatAck, runPlan } from './billing-crash.js';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    operations: { type: 'string', default: '2000' },
    accounts: { type: 'string', default: '4' },
    seed: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '8' },
    'duplicate-every': { type: 'string', default: '5' },
    caller: { type: 'string', default: 'crash-client' },
  },
});
if (!values.db) throw new Error('--db is required');

const manager = new BillingManager({ store: new SqliteBillingStore(values.db) });
const plan = crashPlan(Number(values.operations), crashAccounts(Number(values.accounts)), Number(values.seed));
// writeSync: the line is out of the process before the next operation starts, so an ack on
// stdout always means a committed transaction.
const print = (line: string) => writeSync(1, line);

await runPlan(plan, async (operation) => {
  const request = {
    caller: values.caller!, endUserIdentifier: operation.endUserIdentifier, amount: operation.amount, referenceCode: operation.referenceCode,
  };
  const result = operation.op === 'charge' ? await manager.chargeAmount(request) : await manager.refundAmount(request);
  return { referenceCode: operation.referenceCode, transactionId: result.transactionId, balanceAfter: result.balanceAfter };
}, {
  concurrency: Number(values.concurrency),
  duplicateEvery: Number(values['duplicate-every']),
  onAck: (_operation, ack) => print(formatAck(ack)),
});
print(`done ${plan.length}\n`);
await manager.close();
