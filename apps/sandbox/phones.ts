const PHONE_TYPES = ['Mobile', 'Home', 'Work', 'Fax', 'Other'] as const;

/** Cliniko's checks of a phone list (`patient_phone_numbers`, `phone_numbers`): the first problem, keyed by field. */
export function phoneErrors(list: unknown, field: string): Record<string, string> {
  if (list == null) return {};
  if (!Array.isArray(list)) return { [field]: 'is invalid' };
  for (const item of list) {
    if (typeof item !== 'object' || item === null) return { [field]: 'is invalid' };
    const { phone_type, number } = item as Record<string, unknown>;
    if (typeof number !== 'string' || number.trim() === '') return { [`${field}.number`]: "can't be blank" };
    if (number.length > 255) return { [`${field}.number`]: 'is too long (maximum is 255 characters)' };
    if (!PHONE_TYPES.includes(phone_type as (typeof PHONE_TYPES)[number]))
      return { [`${field}.phone_type`]: 'is not included in the list' };
  }
  return {};
}

/** Adds Cliniko's `normalized_number` (digits and `+`) to each phone. */
export function normalisePhones(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((item) => {
    const { phone_type, number } = item as { phone_type: string; number: string };
    return { phone_type, number, normalized_number: number.replace(/[^\d+]/g, '') };
  });
}
