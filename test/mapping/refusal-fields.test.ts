import { describe, expect, it } from '@jest/globals';
import { sourceFieldOf } from '../../src/mapping/refusal-fields.js';

describe("Cliniko's refused keys, back to source columns", () => {
  it('maps internal and nested keys, per entity and per contact file', () => {
    expect(sourceFieldOf('fileUploads', ['temp_attachment_url'])).toBe('FilePath');
    expect(sourceFieldOf('letters', ['description'])).toBe('Subject');
    expect(sourceFieldOf('fileUploads', ['description'])).toBe('Description');
    expect(sourceFieldOf('patients', ['patient_phone_numbers[0].number'])).toBe('MobilePhone');
    expect(sourceFieldOf('patients', ['unknown', 'date_of_birth'])).toBe('DateOfBirth');
    expect(sourceFieldOf('appointments', ['starts_at'])).toBe('StartTime');
    expect(sourceFieldOf('contacts', ['company_name'], 'Referrers.csv')).toBe('PracticeName');
    expect(sourceFieldOf('contacts', ['company_name'], 'export/Debtors.csv')).toBe('Name');
    expect(sourceFieldOf('contacts', ['company_name'], 'Employers.csv')).toBe('CompanyName');
    expect(sourceFieldOf('patients', ['base'])).toBe('');
  });
});
