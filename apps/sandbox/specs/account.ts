import { archivable, linkTo, type ResourceSpec, stamps, str } from './spec.js';

/**
 * The account's businesses, practitioners and users (Cliniko's API documentation on practitioners,
 * users and businesses), read-only here.
 */
export const ACCOUNT_RESOURCES: Record<string, ResourceSpec> = {
  businesses: {
    table: 'businesses',
    path: 'businesses',
    collection: 'businesses',
    create: true,
    update: true,
    archive: true,
    unarchive: true,
    rules: {
      business_name: str,
      display_name: str,
      time_zone: str,
      time_zone_identifier: str,
      address_1: str,
      address_2: str,
      city: str,
      state: str,
      post_code: str,
      country_code: str,
      additional_information: { type: 'string', maxLength: 5000 },
    },
    filters: {
      ...archivable,
      deleted_at: 'datetime',
      show_in_online_bookings: 'boolean',
      appointment_type_ids: 'array',
    },
    relations: {},
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({ practitioners: linkTo(base, `/businesses/${rec.id}/practitioners`) }),
  },
  practitioners: {
    table: 'practitioners',
    path: 'practitioners',
    collection: 'practitioners',
    rules: {},
    filters: { ...stamps, active: 'boolean', show_in_online_bookings: 'boolean', user_id: 'int64' },
    relations: { user: { field: 'user_id', path: 'users' } },
    hideWhenSet: [],
    extraLinks: (rec, base) => ({
      appointment_types: linkTo(base, `/practitioners/${rec.id}/appointment_types`),
      display_name: [rec.title, rec.first_name, rec.last_name].filter(Boolean).join(' '),
      label: [rec.first_name, rec.last_name].filter(Boolean).join(' '),
    }),
  },
  users: {
    table: 'users',
    path: 'users',
    collection: 'users',
    rules: {},
    filters: stamps,
    relations: {},
    hideWhenSet: [],
  },
};
