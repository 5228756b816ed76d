import { describe, expect, it } from 'vitest';
import { decodeRecordValue, encodeRecordValue, toRecords } from '../../../src/gateway/gateway-record.js';
import type { IngestionEvent } from '../../../src/ingestion/ingestion-event.js';

const ev = (id: string, type: string, body: Record<string, unknown>) => ({ id, type, timestamp: '2026-12-01T10:00:00.000Z', body }) as unknown as IngestionEvent;

describe('gateway records', () => {
  it('one record per trace, keyed by the trace id, events in their order', () => {
    const records = toRecords(
      [
        {
          source: { sdkName: 'python' },
          events: [
            ev('1', 'trace-create', { id: 'ta' }),
            ev('2', 'generation-create', { id: 'g1', traceId: 'tb' }),
            ev('3', 'generation-update', { id: 'g0', traceId: 'ta' }),
            ev('4', 'score-create', { id: 's1', traceId: 'tb' }),
            ev('5', 'span-update', { id: 'orphan' }),
          ],
        },
      ],
      42,
    );
    expect(records.map((r) => [r.key, r.events.map((e) => e.id)])).toEqual([
      ['ta', ['1', '3']],
      ['tb', ['2', '4']],
      ['orphan', ['5']],
    ]);
  });

  it('round-trips through the versioned value; another version or garbage is unreadable, not thrown', () => {
    const [record] = toRecords([{ source: { sdkIntegration: 'litellm' }, events: [ev('1', 'trace-create', { id: 'ta', name: 'n' })] }], 7);
    const value = encodeRecordValue(record!);
    expect(JSON.parse(value.toString()).v).toBe(1);
    expect(decodeRecordValue('ta', value)).toEqual(record);
    expect(decodeRecordValue('ta', Buffer.from('{"v":2,"at":1,"source":{},"events":[]}'))).toEqual({ unreadable: expect.stringContaining('version 2') });
    expect(decodeRecordValue('ta', Buffer.from('{'))).toHaveProperty('unreadable');
    expect(decodeRecordValue('ta', null)).toHaveProperty('unreadable');
  });
});
