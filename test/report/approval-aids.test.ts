import { describe, expect, it } from '@jest/globals';
import { AidCollector, approvalAids, weekOf } from '../../src/report/approval-aids.js';
import { BASE, csv, dryRunWith, writeZip } from '../support/exports.js';

/**
 * The approval aids on fixtures built for them: a busiest week whose counts per practitioner and
 * location are known, a date column whose day/month order cannot be told, DST edge cases, notes
 * out of order, and a sample that does not depend on how the export is split into batches.
 */
const PRACTITIONERS = csv('PractitionerId,FirstName,LastName', 'P1,Hana,Ruru', 'P2,Mere,Tane');
const SEED = [
  { first_name: 'Hana', last_name: 'Ruru' },
  { first_name: 'Mere', last_name: 'Tane' },
];

// Week of Monday 2024-05-13: P1 4 (3 at L1, 1 at L2), P2 2 (L2). Other weeks have 2 each.
const APPOINTMENTS = csv(
  'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
  'A1,C1,P1,13/05/2024,09:00,T1,L1',
  'A2,C2,P1,14/05/2024,09:00,T1,L1',
  'A3,C3,P1,19/05/2024,23:30,T1,L1',
  'A4,C4,P1,15/05/2024,10:00,T1,L2',
  'A5,C5,P2,16/05/2024,11:00,T1,L2',
  'A6,C6,P2,17/05/2024,12:00,T1,L2',
  'A7,C1,P2,06/05/2024,09:00,T1,L2',
  'A8,C2,P1,20/05/2024,09:00,T1,L1',
  'A9,C3,P1,21/05/2024,09:00,T1,L1',
  // spring forward in Auckland: 02:30 on 29/09/2024 does not exist
  'A10,C4,P1,29/09/2024,02:30,T1,L1',
);

const clients = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `C${i + 1},First${i + 1},Last${i + 1},0${(i % 9) + 1}/0${(i % 9) + 1}/1980`,
  );

describe('approval aids of a dry run', () => {
  it('count the busiest week per practitioner and location, and flag the ambiguous date column', async () => {
    const path = await writeZip({
      ...BASE,
      'Practitioners.csv': PRACTITIONERS,
      // every DateOfBirth has day and month ≤ 12: its order cannot be proven
      'Clients.csv': csv('ClientId,FirstName,LastName,DateOfBirth', ...clients(30)),
      'Appointments.csv': APPOINTMENTS,
      'ClinicalNotes.csv': csv(
        'NoteId,ClientId,NoteDate,NoteType,Body',
        'N1,C1,20/05/2024,Treatment,later',
        'N2,C1,13/05/2024,Initial Assessment,earlier',
      ),
    });
    const scan = await dryRunWith(path, {}, SEED);
    const aids = scan.aids;

    expect(aids.busiestWeek).toMatchObject({
      weekStart: '2024-05-13',
      weekEnd: '2024-05-19',
      appointments: 6,
      byPractitioner: [
        { sourceId: 'P1', source: 4 },
        { sourceId: 'P2', source: 2 },
      ],
      byLocation: [
        { sourceId: 'L1', source: 3 },
        { sourceId: 'L2', source: 3 },
      ],
    });
    expect(aids.ambiguousDateColumns).toEqual([
      expect.objectContaining({ file: 'Clients.csv', field: 'DateOfBirth' }),
    ]);
    expect(aids.dstEdgeCases.map((d) => [d.sourceId, d.code])).toEqual([['A10', 'DST_GAP']]);

    expect(aids.clientSample).toHaveLength(20);
    // field by field: what was exported beside what Cliniko is sent
    const sampled = aids.clientSample[0];
    const n = sampled?.sourceId.slice(1) ?? '';
    expect(sampled?.asExported).toMatchObject({
      ClientId: `C${n}`,
      FirstName: `First${n}`,
      LastName: `Last${n}`,
    });
    expect(sampled?.asSent).toMatchObject({
      first_name: `First${n}`,
      last_name: `Last${n}`,
      old_reference_id: `C${n}`,
    });
    // every appointment fits the sample here: the same one in local time and as its business shows it
    const a3 = aids.appointmentSample.find((a) => a.sourceId === 'A3');
    expect(a3).toMatchObject({
      local: '2024-05-19 23:30',
      timeZone: 'Pacific/Auckland',
      utc: '2024-05-19T11:30:00Z',
    });
    expect(a3?.inBusinessZone).toBe('19 May 2024, 23:30 NZST (Pacific/Auckland)');
    expect(aids.appointmentSample).toHaveLength(10);
  });

  it('sample the same clients however the rows are split into batches, with their notes in date order', () => {
    const whole = new AidCollector();
    const parts = [new AidCollector(), new AidCollector(), new AidCollector()];
    for (let i = 1; i <= 90; i++) {
      const row = { row: i + 1, values: { ClientId: `C${i}`, FirstName: `F${i}` } };
      whole.client(row, 'Clients.csv', 'planned');
      parts[i % 3]?.client(row, 'Clients.csv', 'planned');
      for (const [n, date] of [
        [1, '2024-03-01'],
        [2, '2023-01-01'],
      ] as const) {
        const note = { sourceId: `N${i}-${n}`, patientSourceId: `C${i}`, date, sections: [] };
        const row = i * 2 + n;
        whole.note(note, row);
        parts[(i + n) % 3]?.note(note, row);
      }
    }
    const a = approvalAids([whole.snapshot()], []);
    const b = approvalAids(
      parts.map((p) => p.snapshot()),
      [],
    );
    expect(b.clientSample.map((c) => c.sourceId)).toEqual(a.clientSample.map((c) => c.sourceId));
    expect(b.notesByClient).toEqual(a.notesByClient);
    expect(a.notesByClient).toHaveLength(20);
    const first = a.notesByClient[0];
    expect(first?.notes.map((n) => n.date)).toEqual(['2023-01-01', '2024-03-01']);
    expect(first?.inDateOrder).toBe(false);
  });

  it('start weeks on Monday', () => {
    expect(weekOf('2024-05-19')).toBe('2024-05-13');
    expect(weekOf('2024-05-13')).toBe('2024-05-13');
    expect(weekOf('2024-05-20')).toBe('2024-05-20');
  });
});
