import { describe, expect, it } from '@jest/globals';
import { MalformedWriteMessage, parseWriteMessage } from '../../src/mapping/write-payload.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';

/** The writer's side of the queue: a message is parsed where it enters, or refused saying why. */
const patient: WriteCommand = {
  runId: 'r1',
  clinicId: 'c1',
  scope: 'c1@au1-1',
  entity: 'patients',
  sourceId: 'C1',
  file: 'Clients.csv',
  row: 2,
  hash: 'h',
  keyIndex: 0,
  payload: {
    kind: 'patient',
    body: { old_reference_id: 'C1', first_name: 'Aroha', last_name: 'Ngata', email: 'a@example.com' },
    alerts: ['Penicillin'],
  },
};

const refusal = (body: string) => {
  try {
    parseWriteMessage(body);
  } catch (err) {
    return err;
  }
  return undefined;
};

describe('a write message', () => {
  it('is read back as the command that was sent, its body whole', () => {
    const appointment: WriteCommand = {
      ...patient,
      entity: 'appointments',
      sourceId: 'A1',
      payload: {
        kind: 'appointment',
        body: {
          patient_id: '91',
          practitioner_id: '5',
          business_id: '7',
          appointment_type_id: '3',
          starts_at: '2024-03-01T01:00:00Z',
          ends_at: '2024-03-01T01:30:00Z',
        },
        cancel: { cancellation_reason: 50, cancellation_note: 'rang' },
        arrived: false,
      },
    };
    for (const cmd of [patient, appointment]) expect(parseWriteMessage(JSON.stringify(cmd))).toEqual(cmd);
  });

  it('is refused when it is not JSON', () => {
    const err = refusal('{"runId": "r1"');
    expect(err).toBeInstanceOf(MalformedWriteMessage);
    expect(String(err)).toMatch(/not JSON/);
  });

  it('is refused naming the fields that are wrong, never their values', () => {
    const { old_reference_id: _, ...body } = patient.payload.kind === 'patient' ? patient.payload.body : {};
    const err = refusal(JSON.stringify({ ...patient, keyIndex: -1, payload: { ...patient.payload, body } }));
    expect(err).toBeInstanceOf(MalformedWriteMessage);
    expect(String(err)).toMatch(/payload\.body\.old_reference_id/);
    expect(String(err)).toMatch(/keyIndex/);
    expect(String(err)).not.toMatch(/Aroha|Ngata|example\.com/);
  });

  it('is refused when its kind is unknown or its entity is none a run writes', () => {
    expect(String(refusal(JSON.stringify({ ...patient, payload: { kind: 'invoice' } })))).toMatch(
      /payload\.kind/,
    );
    expect(String(refusal(JSON.stringify({ ...patient, entity: 'invoices' })))).toMatch(/entity/);
  });
});
