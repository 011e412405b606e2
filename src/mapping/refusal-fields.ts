/**
 * Where a field Cliniko refused came from: Cliniko's 422 names its own keys, sometimes internal
 * ones (`temp_attachment_url` for a bad `upload_url`, Cliniko's API documentation on errors), and a
 * clinic fixes its export by source column. Keys map to the column that fills them
 * (docs/EXPORT-FORMAT.md, The tables).
 */
const ADDRESS: Record<string, string> = {
  address_1: 'Address1',
  address_2: 'Address2',
  address_3: 'Suburb',
  city: 'City',
  state: 'Region',
  post_code: 'PostCode',
  country: 'Country',
};

const BY_ENTITY: Record<string, Record<string, string>> = {
  patients: {
    ...ADDRESS,
    first_name: 'FirstName',
    last_name: 'LastName',
    old_reference_id: 'ClientId',
    title: 'Title',
    preferred_first_name: 'PreferredName',
    date_of_birth: 'DateOfBirth',
    email: 'Email',
    patient_phone_numbers: 'MobilePhone',
    phone_numbers: 'MobilePhone',
    occupation: 'Occupation',
    emergency_contact: 'EmergencyContactName',
    reminder_type: 'ReminderPreference',
    sex: 'Gender',
    notes: 'Notes',
    medical_alerts: 'Alerts',
    name: 'Alerts',
    referral_source: 'ReferrerId',
    referring_doctor: 'ReferrerId',
    contact_id: 'ReferrerId',
  },
  contacts: {
    ...ADDRESS,
    first_name: 'FirstName',
    last_name: 'LastName',
    company_name: 'CompanyName',
    title: 'Title',
    email: 'Email',
    phone_numbers: 'Phone',
    occupation: 'ReferrerType',
    provider_number: 'ProviderNumber',
    notes: 'Notes',
  },
  appointmentTypes: {
    name: 'Name',
    duration_in_minutes: 'DurationMinutes',
    color: 'Colour',
    category: 'Category',
    description: 'Description',
  },
  appointments: {
    starts_at: 'StartTime',
    ends_at: 'EndTime',
    patient: 'ClientId',
    patient_id: 'ClientId',
    practitioner: 'PractitionerId',
    practitioner_id: 'PractitionerId',
    business: 'LocationId',
    business_id: 'LocationId',
    appointment_type: 'AppointmentTypeId',
    appointment_type_id: 'AppointmentTypeId',
    notes: 'Notes',
    cancellation_reason: 'CancellationReason',
    cancellation_note: 'CancellationReason',
  },
  letters: {
    temp_attachment_url: 'FilePath',
    upload_url: 'FilePath',
    patient: 'ClientId',
    patient_id: 'ClientId',
    description: 'Subject',
  },
  fileUploads: {
    temp_attachment_url: 'FilePath',
    upload_url: 'FilePath',
    patient: 'ClientId',
    patient_id: 'ClientId',
    description: 'Description',
  },
  clinicalNotes: {
    patient: 'ClientId',
    patient_id: 'ClientId',
    appointment: 'AppointmentId',
    booking_id: 'AppointmentId',
    practitioner: 'PractitionerId',
  },
};

/** Per source file, where the same Cliniko key is filled from another column. */
const BY_FILE: Record<string, Record<string, string>> = {
  'employers.csv': { first_name: 'ContactFirstName', last_name: 'ContactLastName' },
  'referrers.csv': { company_name: 'PracticeName' },
  'debtors.csv': { company_name: 'Name', first_name: 'ContactName', last_name: 'ContactName' },
};

/**
 * The source column behind the first of Cliniko's refused keys that has one, e.g.
 * `('fileUploads', ['temp_attachment_url'])` → `FilePath`; '' when none is known.
 * `file` is the row's CSV file (contacts come from three tables).
 */
export function sourceFieldOf(entity: string, clinikoKeys: readonly string[], file = ''): string {
  const byFile = BY_FILE[(file.split('/').pop() ?? '').toLowerCase()] ?? {};
  const byEntity = BY_ENTITY[entity] ?? {};
  for (const key of clinikoKeys) {
    // nested keys come as `patient_phone_numbers[0].number` or `address.city`
    const base = key.split(/[.[]/)[0] ?? key;
    const column = byFile[base] ?? byEntity[base];
    if (column) return column;
  }
  return '';
}
