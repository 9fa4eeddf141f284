// Money: decimal text ⇄ exact minor units per ISO 4217 exponent, and the split rounding rule.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  amountText, canonicalDecimal, CURRENCY_EXPONENTS, currencyExponent, formatAmount, formatPercent, INT64_MAX, INT64_MIN,
  normalizeCurrency, parseAmount, parsePercentage, splitAmount,
} from '../src/index.js';
import { kind } from './support/billing-fixture.js';

describe('currencies', () => {
  test('exponents 0, 2, 3 and 4 from the ISO 4217 list', () => {
    for (const c of ['JPY', 'KRW', 'CLP', 'ISK', 'VND', 'XAF', 'XOF', 'XPF', 'UYI']) assert.equal(currencyExponent(c), 0, c);
    for (const c of ['BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND']) assert.equal(currencyExponent(c), 3, c);
    for (const c of ['CLF', 'UYW']) assert.equal(currencyExponent(c), 4, c);
    for (const c of ['EUR', 'USD', 'GBP', 'CHF', 'MGA', 'MRU', 'XCD', 'ZAR']) assert.equal(currencyExponent(c), 2, c);
    assert.ok(CURRENCY_EXPONENTS.size > 150, `a full list, not ${CURRENCY_EXPONENTS.size} codes`);
  });

  test('codes are normalised to upper case; unknown codes and non-money codes are refused', () => {
    assert.equal(normalizeCurrency(' eur '), 'EUR');
    for (const c of ['EURO', 'ABC', '', 'XAU', 'XTS', 'XXX', 42, null]) assert.throws(() => normalizeCurrency(c), kind('unknown-currency'), String(c));
    assert.throws(() => parseAmount('1', 'QQQ'), kind('unknown-currency', /QQQ/));
  });
});

describe('parseAmount', () => {
  test('two-decimal currencies', () => {
    assert.equal(parseAmount('12.50', 'EUR'), 1250n);
    assert.equal(parseAmount('12.5', 'EUR'), 1250n);
    assert.equal(parseAmount('12', 'EUR'), 1200n);
    assert.equal(parseAmount('0.01', 'EUR'), 1n);
    assert.equal(parseAmount('+3.07', 'EUR'), 307n);
    assert.equal(parseAmount(' 7.10 ', 'usd'), 710n);
  });

  test('exponent 0 (JPY) and 3 (KWD), 4 (CLF)', () => {
    assert.equal(parseAmount('1500', 'JPY'), 1500n);
    assert.throws(() => parseAmount('1500.5', 'JPY'), kind('invalid-amount', /JPY has no minor unit/));
    assert.equal(parseAmount('1.234', 'KWD'), 1234n);
    assert.equal(parseAmount('1.2', 'KWD'), 1200n);
    assert.throws(() => parseAmount('1.2345', 'KWD'), kind('invalid-amount', /KWD has 3 decimals/));
    assert.equal(parseAmount('0.0001', 'CLF'), 1n);
  });

  test('more fraction digits than the currency has: refused unless they are zeros (nothing is rounded)', () => {
    assert.throws(() => parseAmount('12.505', 'EUR'), kind('invalid-amount', /EUR has 2 decimals/));
    assert.throws(() => parseAmount('0.001', 'EUR'), kind('invalid-amount'));
    assert.equal(parseAmount('12.500', 'EUR'), 1250n);
    assert.equal(parseAmount('100.00', 'JPY'), 100n);
  });

  test('signs: positive by default, non-negative and signed on request', () => {
    assert.throws(() => parseAmount('0', 'EUR'), kind('invalid-amount', /greater than zero/));
    assert.throws(() => parseAmount('-1', 'EUR'), kind('invalid-amount', /greater than zero/));
    assert.equal(parseAmount('0', 'EUR', 'non-negative'), 0n);
    assert.throws(() => parseAmount('-0.01', 'EUR', 'non-negative'), kind('invalid-amount', /negative/));
    assert.equal(parseAmount('-2.50', 'EUR', 'signed'), -250n);
  });

  test('the signed 64-bit range of minor units, exactly', () => {
    assert.equal(parseAmount('92233720368547758.07', 'EUR'), INT64_MAX);
    assert.throws(() => parseAmount('92233720368547758.08', 'EUR'), kind('invalid-amount', /64-bit/));
    assert.equal(parseAmount('-92233720368547758.08', 'EUR', 'signed'), INT64_MIN);
    assert.throws(() => parseAmount('-92233720368547758.09', 'EUR', 'signed'), kind('invalid-amount', /64-bit/));
    assert.equal(parseAmount('9223372036854775807', 'JPY'), INT64_MAX);
    assert.throws(() => parseAmount('9223372036854775808', 'JPY'), kind('invalid-amount', /64-bit/));
    assert.throws(() => parseAmount('9'.repeat(80), 'JPY'), kind('invalid-amount', /not a decimal amount/));
  });

  test('anything but a plain decimal text is refused', () => {
    for (const bad of ['', ' ', '1e3', '0x10', '1,50', '.5', '5.', '1.2.3', '--1', 'NaN', 'Infinity', '١٢']) {
      assert.throws(() => parseAmount(bad, 'EUR'), kind('invalid-amount'), JSON.stringify(bad));
    }
    for (const bad of [12.5, 12n, null, undefined, {}, ['1']]) assert.throws(() => parseAmount(bad, 'EUR'), kind('invalid-amount', /decimal string/), String(bad));
  });
});

describe('formatAmount and canonical forms', () => {
  test('minor units back to text in the currency\'s exponent', () => {
    assert.equal(formatAmount(1250n, 'EUR'), '12.50');
    assert.equal(formatAmount(5n, 'EUR'), '0.05');
    assert.equal(formatAmount(-5n, 'EUR'), '-0.05');
    assert.equal(formatAmount(0n, 'EUR'), '0.00');
    assert.equal(formatAmount(1500n, 'JPY'), '1500');
    assert.equal(formatAmount(1n, 'KWD'), '0.001');
    assert.equal(formatAmount(INT64_MIN, 'EUR'), '-92233720368547758.08');
    for (const text of ['0.01', '1.00', '92233720368547758.07', '123456.78']) assert.equal(formatAmount(parseAmount(text, 'EUR'), 'EUR'), text);
  });

  test('canonicalDecimal: one spelling per value, for comparing retried requests', () => {
    assert.equal(canonicalDecimal('012.50'), '12.5');
    assert.equal(canonicalDecimal('+12.5'), '12.5');
    assert.equal(canonicalDecimal('-0.00'), '0');
    assert.equal(canonicalDecimal('-1.10'), '-1.1');
    assert.equal(canonicalDecimal('12'), canonicalDecimal('12.000'));
    assert.equal(canonicalDecimal('abc'), 'abc');
  });

  test('amountText: chart numbers by their exact decimal form; exponent notation refused', () => {
    assert.equal(amountText(2.5), '2.5');
    assert.equal(amountText(0.1), '0.1');
    assert.equal(amountText('3.00'), '3.00');
    assert.throws(() => amountText(1e21), kind('invalid-amount'));
    assert.throws(() => amountText(1e-7), kind('invalid-amount'));
    assert.throws(() => amountText(NaN), kind('invalid-amount'));
    assert.throws(() => amountText(true), kind('invalid-amount'));
  });
});

describe('split rounding', () => {
  const pct = (...values: (string | number)[]) => values.map(parsePercentage);

  test('each share rounded down, the remainder to the first payer; shares always add up', () => {
    assert.deepEqual(splitAmount(100n, pct('33.333333', '33.333333', '33.333334')), [34n, 33n, 33n]);
    assert.deepEqual(splitAmount(1000n, pct(50, 50)), [500n, 500n]);
    assert.deepEqual(splitAmount(1n, pct(50, 50)), [1n, 0n]);
    const shares = splitAmount(999n, pct(10, 20, 70));
    // 99.9 → 99, 199.8 → 199, 699.3 → 699: 997, and the 2 left over go to the first payer.
    assert.deepEqual(shares, [101n, 199n, 699n]);
    for (const total of [1n, 7n, 100n, 12345n, INT64_MAX]) {
      const s = splitAmount(total, pct('12.5', '37.5', '0.000001', '49.999999'));
      assert.equal(s.reduce((a, b) => a + b, 0n), total);
      assert.ok(s.slice(1).every((x, i) => x * 100_000_000n <= total * [37_500_000n, 1n, 49_999_999n][i]), 'only the first payer rounds up');
    }
  });

  test('percentages must be positive, at most 6 decimals, and add up to exactly 100', () => {
    assert.throws(() => splitAmount(100n, pct(50, 49.9)), kind('split-percentages', /99\.9, not 100/));
    for (const bad of [0, -5, 100.5, '1.0000001', 'x', null, 1e-7]) assert.throws(() => parsePercentage(bad), kind('split-percentages'), String(bad));
    assert.equal(formatPercent(parsePercentage('33.3333330')), '33.333333');
  });
});
