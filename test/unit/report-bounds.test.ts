import { describe, expect, it } from 'vitest';
import {
  boundDeviceInfo,
  boundReport,
  cutText,
  describeCut,
  describeCuts,
  mergeCuts,
  REPORT_LIMITS,
  utf8Bytes,
  withoutExtraFields,
} from '../../shared/domain/report-bounds.js';

const KB = 1024;

describe('boundReport', () => {
  it('leaves a report within every cap as it is, with no cuts', () => {
    const report = {
      description: 'Pay does nothing',
      console_logs: 'TypeError: x is undefined',
      device_info: { os: 'iOS 18.1', screen: { width: 390 } },
      user_id: 'u_1',
      extra: 'kept',
    };
    const bounded = boundReport(report);
    expect(bounded.cuts).toEqual([]);
    expect(bounded.report).toEqual(report);
  });

  it('keeps the first 16 KB of a long description, never splitting a character', () => {
    // 3-byte and 4-byte characters straddle the cut.
    const description = `Checkout: ${'é€🐛'.repeat(3_000)}`;
    const { report, cuts } = boundReport({ description });
    expect(utf8Bytes(report.description)).toBeLessThanOrEqual(REPORT_LIMITS.descriptionBytes);
    expect(utf8Bytes(report.description)).toBeGreaterThan(REPORT_LIMITS.descriptionBytes - 4);
    expect(description.startsWith(report.description)).toBe(true);
    expect(report.description).not.toContain('\uFFFD');
    expect(cuts).toEqual([
      {
        field: 'description',
        keep: 'start',
        keptBytes: utf8Bytes(report.description),
        totalBytes: utf8Bytes(description),
      },
    ]);
  });

  it('keeps the last 16 KB of the console log, starting at a line', () => {
    const lines = Array.from({ length: 5_000 }, (_, index) => `[${index}] fetch /api/cart 200`);
    const consoleLogs = [...lines, "TypeError: Cannot read properties of undefined (reading 'map')"].join(
      '\n',
    );
    const { report, cuts } = boundReport({ description: 'd', console_logs: consoleLogs });
    const kept = report.console_logs ?? '';
    expect(utf8Bytes(kept)).toBeLessThanOrEqual(REPORT_LIMITS.consoleLogsBytes);
    expect(kept.endsWith("(reading 'map')")).toBe(true);
    expect(kept.startsWith('[')).toBe(true);
    expect(consoleLogs.endsWith(kept)).toBe(true);
    expect(cuts).toEqual([
      { field: 'console_logs', keep: 'end', keptBytes: utf8Bytes(kept), totalBytes: utf8Bytes(consoleLogs) },
    ]);
  });

  it('caps ids, URLs and labels too', () => {
    const { report, cuts } = boundReport({
      description: 'd',
      user_id: 'u'.repeat(1_000),
      url: `https://app.example.com/?q=${'x'.repeat(5_000)}`,
      app_version: 'v'.repeat(300),
    });
    expect(report.user_id).toHaveLength(REPORT_LIMITS.shortTextBytes);
    expect(report.url).toHaveLength(REPORT_LIMITS.urlBytes);
    expect(cuts.map((cut) => cut.field).sort()).toEqual(['app_version', 'url', 'user_id']);
  });

  it('is idempotent: a bounded report bounds to itself', () => {
    const first = boundReport({
      description: 'x'.repeat(50 * KB),
      console_logs: 'line\n'.repeat(20 * KB),
      device_info: Object.fromEntries(
        Array.from({ length: 500 }, (_, index) => [`k${index}`, 'v'.repeat(50)]),
      ),
    });
    expect(first.cuts).toHaveLength(3);
    const again = boundReport(first.report);
    expect(again.cuts).toEqual([]);
    expect(again.report).toEqual(first.report);
  });
});

describe('boundDeviceInfo', () => {
  it('flattens a large object to its first entries within 4 KB and says how much was there', () => {
    const info = Object.fromEntries(
      Array.from({ length: 400 }, (_, index) => [`sensor_${index}`, index * 1.5]),
    );
    const { value, cut } = boundDeviceInfo(info);
    expect(utf8Bytes(JSON.stringify(value))).toBeLessThanOrEqual(REPORT_LIMITS.deviceInfoBytes);
    expect(value.sensor_0).toBe(0);
    expect(cut).toEqual({
      field: 'device_info',
      keep: 'fields',
      keptBytes: utf8Bytes(JSON.stringify(value)),
      totalBytes: utf8Bytes(JSON.stringify(info)),
    });
  });

  it('makes values DynamoDB and the document client would refuse storable', () => {
    const deep = { a: { b: { c: { d: { e: { f: 1 } } } } } };
    const { value } = boundDeviceInfo({
      memory: 2 ** 60, // over 2^53: the document client refuses to marshal it
      tiny: 1e-200, // under DynamoDB's ±1e-130
      huge: 1.5e300, // over DynamoDB's 1e126
      '': 'an empty name',
      nested: deep,
      os: 'Android 14',
    });
    expect(value).toEqual({
      memory: String(2 ** 60),
      tiny: '1e-200',
      huge: '1.5e+300',
      nested: JSON.stringify(deep),
      os: 'Android 14',
    });
  });

  it('cuts long text values to a few hundred characters', () => {
    const { value } = boundDeviceInfo({ userAgent: 'Mozilla/5.0 '.repeat(1_000) });
    expect(String(value.userAgent).length).toBeLessThanOrEqual(REPORT_LIMITS.deviceValueChars);
    expect(String(value.userAgent).endsWith('…')).toBe(true);
  });
});

describe('cutText', () => {
  it('is null when the text fits', () => {
    expect(cutText('abc', 3, 'start')).toBeNull();
    expect(cutText('é'.repeat(10), 20, 'end')).toBeNull();
  });

  it('never leaves half a character at either end', () => {
    const text = '🐛'.repeat(100); // 4 bytes each
    const start = cutText(text, 10, 'start');
    const end = cutText(text, 10, 'end');
    expect(start?.text).toBe('🐛🐛');
    expect(end?.text).toBe('🐛🐛');
    expect(start?.totalBytes).toBe(400);
  });
});

describe('saying what was cut', () => {
  it('names the field, what part was kept, and both sizes', () => {
    expect(
      describeCut({ field: 'console_logs', keep: 'end', keptBytes: 16 * KB, totalBytes: 700 * KB }),
    ).toBe('console log cut to the last 16 KB of 700 KB');
    expect(describeCut({ field: 'description', keep: 'start', keptBytes: 16 * KB, totalBytes: 40_000 })).toBe(
      'description cut to the first 16 KB of 39 KB',
    );
    expect(describeCut({ field: 'extra_fields', keep: 'fields', keptBytes: 0, totalBytes: 300 * KB })).toBe(
      'extra fields dropped (300 KB)',
    );
    expect(describeCut({ field: 'device_info', keep: 'fields', keptBytes: 4000, totalBytes: 9000 })).toBe(
      'device info cut to 3.9 KB of 8.8 KB',
    );
  });

  it('makes one sentence of several cuts, and nothing of none', () => {
    expect(describeCuts([])).toBeUndefined();
    expect(
      describeCuts([
        { field: 'console_logs', keep: 'end', keptBytes: 16 * KB, totalBytes: 700 * KB },
        { field: 'url', keep: 'start', keptBytes: 2 * KB, totalBytes: 3 * KB },
      ]),
    ).toBe('Console log cut to the last 16 KB of 700 KB; page URL cut to the first 2 KB of 3 KB.');
  });
});

describe('cuts made twice', () => {
  it('keeps the webhook’s account of a field (what the sender sent) over the later one', () => {
    const merged = mergeCuts(
      [{ field: 'console_logs', keep: 'end', keptBytes: 16 * KB, totalBytes: 1_000 * KB }],
      [
        { field: 'console_logs', keep: 'end', keptBytes: 15 * KB, totalBytes: 16 * KB },
        { field: 'url', keep: 'start', keptBytes: 2 * KB, totalBytes: 3 * KB },
      ],
    );
    expect(merged).toEqual([
      { field: 'console_logs', keep: 'end', keptBytes: 15 * KB, totalBytes: 1_000 * KB },
      { field: 'url', keep: 'start', keptBytes: 2 * KB, totalBytes: 3 * KB },
    ]);
  });

  it('drops the extra fields and counts their bytes', () => {
    const { report, cuts } = withoutExtraFields({ description: 'd', blob: 'b'.repeat(100) }, ['description']);
    expect(report).toEqual({ description: 'd' });
    expect(cuts).toEqual([
      {
        field: 'extra_fields',
        keep: 'fields',
        keptBytes: 0,
        totalBytes: utf8Bytes(JSON.stringify({ blob: 'b'.repeat(100) })),
      },
    ]);
  });
});
