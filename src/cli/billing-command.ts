import { existsSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { BillingManager } from '../billing/manager.js';
import { SqliteBillingStore } from '../billing/sqlite-billing-store.js';
import { BillingError } from '../billing/errors.js';
import type { BalanceView, HistoryEntry } from '../billing/types.js';

export const BILLING_HELP = `run-scxml billing — operator commands on the billing database

Usage:
  run-scxml billing create-account <endUser> --currency EUR [--balance name]…
  run-scxml billing add-balance <endUser> --balance name…
  run-scxml billing credit <endUser> <amount> [--balance name] [--reference r] [--expires-days n] [--description text]
  run-scxml billing voucher <id> <amount> --currency C [--pin p] [--balance name] [--validity-days n]
  run-scxml billing balance <endUser>
  run-scxml billing statement <endUser> [--since ISO-date] [--max n]
  run-scxml billing accounts
  run-scxml billing audit

Commands:
  create-account  an account in one ISO 4217 currency, with the default balance ("") and the
                  named ones (--balance repeats)
  add-balance     new, empty named balances on an existing account (--balance repeats)
  credit          add the amount (a decimal: 10, 2.50) to a balance (default: the default one);
                  a negative amount (after --: credit u -- -2.50) debits what is available.
                  --expires-days: the credit is valid at least that many days from now.
                  --reference makes a repeated command apply once (default: a fresh one)
  voucher         provision a voucher that voucherUpdate redeems once (with its PIN, if any)
  balance         every balance: amount, reserved, available, expiry
  statement       the journal, oldest first: the newest --max entries (default 100) since --since
  accounts        every account
  audit           check that every balance equals the sum of its journal (exit 1 otherwise)

Options:
  --db <file>     the SQLite database (default: $ORCHESTRION_DB, else orchestrion.db here)
  --json          print the result as one line of JSON
  -h, --help      show this help and exit 0

Exit codes: 0 done; 1 the operation failed (unknown account, insufficient funds, audit
discrepancies, …); 2 usage error.
`;

export const EXIT_BILLING_OK = 0;
export const EXIT_BILLING_FAILED = 1;
export const EXIT_BILLING_USAGE = 2;

/** Who the journal names for operator commands. */
export const CLI_CALLER = 'operator:cli';

class UsageError extends Error {}

const COMMANDS: Record<string, { readonly args: readonly string[]; readonly creates: boolean }> = {
  'create-account': { args: ['endUser'], creates: true },
  'add-balance': { args: ['endUser'], creates: false },
  credit: { args: ['endUser', 'amount'], creates: false },
  voucher: { args: ['id', 'amount'], creates: true },
  balance: { args: ['endUser'], creates: false },
  statement: { args: ['endUser'], creates: false },
  accounts: { args: [], creates: false },
  audit: { args: [], creates: false },
};

/** `run-scxml billing …`: `argv` is everything after the word `billing`. */
export async function billingMain(argv: readonly string[], out: (line: string) => void, err: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        json: { type: 'boolean', default: false },
        currency: { type: 'string' },
        balance: { type: 'string', multiple: true },
        reference: { type: 'string' },
        'expires-days': { type: 'string' },
        'validity-days': { type: 'string' },
        description: { type: 'string' },
        pin: { type: 'string' },
        since: { type: 'string' },
        max: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return usage(err, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(BILLING_HELP.trimEnd());
    return EXIT_BILLING_OK;
  }
  const [command, ...args] = positionals;
  if (command === undefined) return usage(err, 'a command is required (create-account, add-balance, credit, voucher, balance, statement, accounts, audit)');
  const spec = COMMANDS[command];
  if (!spec) return usage(err, `unknown command '${command}' (create-account, add-balance, credit, voucher, balance, statement, accounts, audit)`);
  if (args.length !== spec.args.length) {
    return usage(err, `${command} takes ${spec.args.length ? spec.args.map((a) => `<${a}>`).join(' ') : 'no arguments'}, got ${args.length} argument(s)`);
  }
  const file = path.resolve(values.db ?? (env.ORCHESTRION_DB || 'orchestrion.db'));
  if (!spec.creates && !existsSync(file)) {
    err(`run-scxml billing: no billing database at ${file} (create an account first, or give --db)`);
    return EXIT_BILLING_FAILED;
  }
  let manager: BillingManager;
  try {
    manager = new BillingManager({ store: new SqliteBillingStore(file) });
  } catch (e) {
    err(`run-scxml billing: cannot open ${file}: ${(e as Error).message}`);
    return EXIT_BILLING_FAILED;
  }
  const print = (json: unknown, text: () => string[]) => {
    if (values.json) out(JSON.stringify(json));
    else for (const line of text()) out(line);
  };
  try {
    switch (command) {
      case 'create-account': {
        if (values.currency === undefined) throw new UsageError('create-account needs --currency (an ISO 4217 code such as EUR)');
        const view = await manager.createAccount(args[0], { currency: values.currency, balances: values.balance ?? [] });
        print(view, () => [`created account ${view.endUserIdentifier} in ${view.currency}, balances: ${view.balances.map((b) => balanceLabel(b.name)).join(', ')}`]);
        return EXIT_BILLING_OK;
      }
      case 'add-balance': {
        if (!values.balance?.length) throw new UsageError('add-balance needs --balance <name> (once per balance to add)');
        const views = [];
        for (const name of values.balance) views.push(await manager.addBalance(args[0], name));
        const view = views[views.length - 1]!;
        print(view, () => [`account ${view.endUserIdentifier} now has the balances: ${view.balances.map((b) => balanceLabel(b.name)).join(', ')}`]);
        return EXIT_BILLING_OK;
      }
      case 'credit': {
        const balance = single(values.balance, 'balance');
        const result = await manager.balanceUpdate({
          caller: CLI_CALLER, endUserIdentifier: args[0], amount: args[1], balanceType: balance,
          referenceCode: values.reference ?? `cli-${randomUUID()}`, description: values.description,
          periodDays: integerOption(values['expires-days'], 'expires-days'),
        });
        print(result, () => [
          `${result.amount.startsWith('-') ? 'debited' : 'credited'} ${result.amount.replace(/^-/, '')} ${result.currency} ${result.amount.startsWith('-') ? 'from' : 'to'} ${balanceLabel(result.balanceType)} of ${result.endUserIdentifier}: `
          + `now ${result.balanceAfter} ${result.currency}${result.expires ? `, expires ${result.expires}` : ''} (transaction ${result.transactionId})`,
        ]);
        return EXIT_BILLING_OK;
      }
      case 'voucher': {
        if (values.currency === undefined) throw new UsageError('voucher needs --currency (an ISO 4217 code such as EUR)');
        const view = await manager.provisionVoucher({
          voucherIdentifier: args[0], amount: args[1], currency: values.currency, pin: values.pin,
          balanceType: single(values.balance, 'balance'), validityDays: integerOption(values['validity-days'], 'validity-days'),
        });
        print(view, () => [`voucher ${view.voucherIdentifier}: ${view.amount} ${view.currency} for ${balanceLabel(view.balanceType)}${view.hasPin ? ', with PIN' : ''}${view.validityDays ? `, valid ${view.validityDays} days` : ''}`]);
        return EXIT_BILLING_OK;
      }
      case 'balance': {
        const result = await manager.getBalance(args[0]);
        print(result, () => [`${result.endUserIdentifier} (${result.currency})`, ...table(
          ['balance', 'amount', 'reserved', 'available', 'expires'],
          result.balances.map((b: BalanceView) => [balanceLabel(b.name), b.amount, b.reserved, b.available, b.expires ? `${b.expires}${b.expired ? ' (expired)' : ''}` : '-']),
        )]);
        return EXIT_BILLING_OK;
      }
      case 'statement': {
        const max = integerOption(values.max, 'max');
        const entries = (await manager.getHistory(args[0], { since: values.since, maxEntries: max })).reverse();
        const account = await manager.getAccount(args[0]);
        print({ endUserIdentifier: account.endUserIdentifier, currency: account.currency, entries, balances: account.balances }, () => [
          `statement of ${account.endUserIdentifier} (${account.currency}), oldest first`,
          ...table(['date', 'transaction', 'balance', 'kind', 'amount', 'after', 'reference', 'description'],
            entries.map((e: HistoryEntry) => [e.date, e.transactionId, balanceLabel(e.balanceType), e.kind, e.amount, e.balanceAfter, e.referenceCode ?? '-', e.description ?? ''])),
          ...account.balances.map((b) => `${balanceLabel(b.name)}: ${b.amount} ${b.currency} (available ${b.available})`),
        ]);
        return EXIT_BILLING_OK;
      }
      case 'accounts': {
        const accounts = await manager.listAccounts();
        print(accounts, () => (accounts.length ? table(['account', 'currency', 'created'], accounts.map((a) => [a.endUserIdentifier, a.currency, a.created])) : ['no accounts']));
        return EXIT_BILLING_OK;
      }
      case 'audit': {
        const report = await manager.audit();
        print(report, () => [
          `audit of ${file}: ${report.accounts} account(s), ${report.balances} balance(s), ${report.journalEntries} journal entr${report.journalEntries === 1 ? 'y' : 'ies'}, ${report.reservations} reservation(s)`,
          ...report.discrepancies.map((d) => `discrepancy (${d.check}): ${d.message}`),
          report.ok ? 'OK: every balance equals the sum of its journal' : `FAILED: ${report.discrepancies.length} discrepanc${report.discrepancies.length === 1 ? 'y' : 'ies'}`,
        ]);
        return report.ok ? EXIT_BILLING_OK : EXIT_BILLING_FAILED;
      }
    }
    return usage(err, `unknown command '${command}'`);
  } catch (e) {
    if (e instanceof UsageError) return usage(err, e.message);
    if (e instanceof BillingError) {
      if (values.json) out(JSON.stringify({ error: e.toJSON() }));
      err(`run-scxml billing: ${e.message} (${e.kind})`);
      return EXIT_BILLING_FAILED;
    }
    throw e;
  } finally {
    await manager.close();
  }
}

function usage(err: (line: string) => void, message: string): number {
  err(`run-scxml billing: ${message}\nTry 'run-scxml billing --help'.`);
  return EXIT_BILLING_USAGE;
}

function balanceLabel(name: string): string {
  return name === '' ? 'the default balance' : `balance '${name}'`;
}

function single(values: string[] | undefined, name: string): string | undefined {
  if (values && values.length > 1) throw new UsageError(`--${name} may be given once here`);
  return values?.[0];
}

function integerOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new UsageError(`--${name} must be a whole number, not '${value}'`);
  return Number(value);
}

/** Rows under a header, columns padded to their widest cell. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
