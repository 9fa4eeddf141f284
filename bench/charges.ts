// ParlayX chargeAmount through HTTP on loopback: the service (fastify, the Billing Manager on an
// SQLite file with synchronous=FULL, one transaction per charge) and its client in one process.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startParlayxService } from '../src/parlayx/server.js';
import { check, type Row } from './workloads.js';

const ACCOUNTS = 8;

export async function benchCharges(protocol: 'json' | 'soap', charges: number, concurrency: number): Promise<Row> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'orx-bench-charges-'));
  const service = await startParlayxService({
    port: 0, db: path.join(dir, 'bench.db'), logLevel: false, accounts: [{ name: 'bench', password: 'bench-pw', settings: { billing: 'any' } }],
  });
  try {
    const users = Array.from({ length: ACCOUNTS }, (_, i) => `tel:+4900${i}`);
    for (const u of users) {
      await service.billing.createAccount(u, { currency: 'EUR' });
      await service.billing.balanceUpdate({ caller: 'operator', endUserIdentifier: u, referenceCode: `init-${u}`, amount: '1000000.00' });
    }
    const authorization = `Basic ${Buffer.from('bench:bench-pw').toString('base64')}`;
    const request = (i: number): RequestInit & { url: string } => {
      const user = users[i % ACCOUNTS]!;
      if (protocol === 'json') {
        return {
          url: `${service.url}/rest/amount_charging/chargeAmount`, method: 'POST', headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ endUserIdentifier: user, charge: { description: 'bench', currency: 'EUR', amount: '0.01' }, referenceCode: `b-${i}` }),
        };
      }
      return {
        url: `${service.url}/parlayx/amount_charging`, method: 'POST', headers: { authorization, 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
        body: `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><c:chargeAmount xmlns:c="http://www.csapi.org/schema/parlayx/payment/amount_charging/v2_1/local"><c:endUserIdentifier>${user}</c:endUserIdentifier><c:charge><description>bench</description><currency>EUR</currency><amount>0.01</amount></c:charge><c:referenceCode>b-${i}</c:referenceCode></c:chargeAmount></s:Body></s:Envelope>`,
      };
    };
    let next = 0;
    const lane = async () => {
      while (next < charges) {
        const { url, ...init } = request(next++);
        const res = await fetch(url, init);
        await res.text();
        check(res.status === 200, `charge answered HTTP ${res.status}`);
      }
    };
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, lane));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const audit = await service.billing.audit();
    check(audit.discrepancies.length === 0, `audit: ${JSON.stringify(audit.discrepancies)}`);
    const history = await service.billing.getHistory(users[0]!, { maxEntries: 10_000 });
    check(history.length === Math.ceil(charges / ACCOUNTS) + 1, `${history.length} journal entries for ${users[0]}`);
    return {
      workload: 'charges', engine: 'orchestrion', variant: `${protocol === 'json' ? 'JSON mirror' : 'SOAP'}, ${concurrency} clients`,
      figures: { chargesPerSecond: Math.round(charges / seconds), charges, concurrency },
      notes: [`checked: audit clean, every charge journalled once; SQLite WAL with synchronous=FULL on ${os.tmpdir()}; client and service share the process`],
    };
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
