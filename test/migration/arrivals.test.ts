import { describe, expect, it } from '@jest/globals';
import { arrivalCosts, arrivalsLine, atKeys } from '../../src/mapping/arrivals.js';
import { BASE, csv, dryRunInto, writeZip } from '../support/exports.js';
import { OTHER_KEY, TEST_KEY, testSeed, withSandbox } from '../support/sandbox.js';

/** The dry run states what each `markArrivals` setting costs in requests and time. */
const exportZip = () =>
  writeZip({
    ...BASE,
    'manifest.json': JSON.stringify({
      system: 'Gensolve Practice Manager',
      exportedAt: '2024-06-30T09:00:00+12:00',
    }),
    'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId,Status',
      'A1,C1,P1,01/01/2023,09:00,T1,L1,Completed',
      'A2,C1,P1,02/01/2023,09:00,T1,L1,Arrived',
      'A3,C1,P1,15/05/2024,09:00,T1,L1,Completed',
      'A4,C1,P1,15/06/2024,09:00,T1,L1,Arrived',
      'A5,C1,P1,15/08/2024,09:00,T1,L1,Booked',
      'A6,C1,P1,16/05/2024,09:00,T1,L1,DNA',
    ),
  });

describe('markArrivals in the dry run', () => {
  for (const setting of ['none', 'recent', 'all'] as const) {
    it(`"${setting}": states the cost of every choice, its own marked`, async () => {
      const sandbox = await withSandbox({
        rateLimit: 100_000,
        seed: { ...testSeed, practitioners: [{ first_name: 'Hana', last_name: 'Ruru' }] },
      });
      try {
        // two keys, two Cliniko users: the time is stated at both users' rate limits
        const { report } = await dryRunInto(sandbox, await exportZip(), {
          config: { markArrivals: setting },
          apiKeys: [TEST_KEY, OTHER_KEY],
        });
        expect(report.arrivals).toEqual({
          setting,
          recentSince: '2024-03-31',
          keys: 2,
          choices: {
            none: { appointments: 0, requests: 0, minutes: 0 },
            // two requests each (find the attendee, mark it) at 2 × 200 a minute, 96 % used
            recent: { appointments: 2, requests: 4, minutes: 0 },
            all: { appointments: 4, requests: 8, minutes: 0 },
          },
        });
      } finally {
        await sandbox.close();
      }
    });
  }

  it('times the requests at the configured keys', () => {
    const days = { '2024-05-01': 3000, '2020-01-01': 9000 };
    const one = arrivalCosts(days, { setting: 'recent', exportDate: '2024-06-30', keys: 1 });
    expect(one.choices.recent).toEqual({ appointments: 3000, requests: 6000, minutes: 31.3 });
    expect(one.choices.all).toEqual({ appointments: 12_000, requests: 24_000, minutes: 125 });
    expect(atKeys(one, 4).choices.all.minutes).toBe(31.3);
    expect(arrivalsLine(one)).toBe(
      'markArrivals "recent": recent 3000 appointments = 6000 requests ≈ 31.3 min at 1 key (none 0 appointments = 0 requests ≈ 0 min; all 12000 appointments = 24000 requests ≈ 125 min)',
    );
  });
});
