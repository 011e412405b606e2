import { z } from 'zod';
import type { SandboxState } from './state.js';

/**
 * What a clinic sets up by hand before a transfer and the API cannot create: users (with their
 * API keys), businesses and practitioners. Appointment types may be seeded too, as a clinic that
 * already uses Cliniko has them.
 */
export const SandboxSeed = z.object({
  /** The account the sandbox stands for (a new random one when absent). */
  account: z
    .object({
      id: z.string().regex(/^\d{1,9}$/),
      name: z.string().min(1).optional(),
      subdomain: z.string().min(1).optional(),
      country_code: z.string().length(2).optional(),
    })
    .optional(),
  users: z
    .array(
      z.object({
        first_name: z.string().min(1),
        last_name: z.string().min(1),
        email: z.string().optional(),
        role: z
          .enum([
            'administrator',
            'bookkeeper',
            'power receptionist',
            'practitioner',
            'receptionist',
            'scheduler',
          ])
          .optional(),
        is_practitioner: z.boolean().optional(),
        api_key: z.string().min(8).optional(),
      }),
    )
    .default([]),
  businesses: z
    .array(
      z.object({
        business_name: z.string().min(1),
        time_zone_identifier: z.string().optional(),
        time_zone: z.string().optional(),
      }),
    )
    .default([]),
  practitioners: z
    .array(
      z.object({
        first_name: z.string().min(1),
        last_name: z.string().min(1),
        title: z.string().optional(),
        active: z.boolean().default(true),
        /** The key the practitioner made in "My Info → Manage API keys": notes it writes are theirs. */
        api_key: z.string().min(8).optional(),
      }),
    )
    .default([]),
  appointment_types: z
    .array(
      z.object({
        name: z.string().min(1),
        duration_in_minutes: z.number().int().min(0).max(1440),
        color: z.string().default('#4A90E2'),
      }),
    )
    .default([]),
});
export type SandboxSeed = z.input<typeof SandboxSeed>;

export const DEFAULT_SANDBOX_KEY = 'sandbox0000000000000000000000000001-au1';

export function defaultSeed(apiKey = DEFAULT_SANDBOX_KEY): SandboxSeed {
  return {
    users: [
      {
        first_name: 'Sandbox',
        last_name: 'Admin',
        role: 'administrator',
        is_practitioner: true,
        api_key: apiKey,
      },
    ],
    businesses: [{ business_name: 'Sandbox Clinic', time_zone_identifier: 'Australia/Sydney' }],
    practitioners: [],
  };
}

export function keyBody(key: string): string {
  const dash = key.lastIndexOf('-');
  return dash > 0 && /^[a-z]{2}\d{1,2}$/i.test(key.slice(dash + 1)) ? key.slice(0, dash) : key;
}

export function applySeed(state: SandboxState, input: SandboxSeed): void {
  const seed = SandboxSeed.parse(input);
  if (seed.account) {
    const a = seed.account;
    state.account = {
      id: a.id,
      name: a.name ?? `Sandbox account ${a.id}`,
      subdomain: a.subdomain ?? `sandbox-${a.id}`,
      country_code: a.country_code ?? 'AU',
    };
  }
  for (const [i, u] of seed.users.entries()) {
    const user = state.insert('users', {
      first_name: u.first_name,
      last_name: u.last_name,
      email:
        u.email ?? `${u.first_name}.${u.last_name}@sandbox.example.com`.toLowerCase().replace(/\s+/g, ''),
      role: u.role ?? (i === 0 ? 'administrator' : 'practitioner'),
      active: true,
      user_active: true,
      time_zone: 'Sydney',
      time_zone_identifier: 'Australia/Sydney',
    });
    if (u.api_key) state.apiKeys.set(keyBody(u.api_key), user.id);
    if (u.is_practitioner) {
      state.insert('practitioners', {
        first_name: u.first_name,
        last_name: u.last_name,
        title: null,
        active: true,
        user_id: user.id,
      });
    }
  }
  for (const p of seed.practitioners) {
    const user = state.insert('users', {
      first_name: p.first_name,
      last_name: p.last_name,
      email: `${p.first_name}.${p.last_name}@sandbox.example.com`.toLowerCase().replace(/\s+/g, ''),
      role: 'practitioner',
      active: p.active,
      user_active: p.active,
      time_zone: 'Sydney',
      time_zone_identifier: 'Australia/Sydney',
    });
    if (p.api_key) state.apiKeys.set(keyBody(p.api_key), user.id);
    state.insert('practitioners', {
      first_name: p.first_name,
      last_name: p.last_name,
      title: p.title ?? null,
      active: p.active,
      user_id: user.id,
    });
  }
  for (const b of seed.businesses) {
    state.insert('businesses', {
      business_name: b.business_name,
      display_name: b.business_name,
      time_zone_identifier: b.time_zone_identifier ?? 'Australia/Sydney',
      time_zone:
        b.time_zone ?? (b.time_zone_identifier ?? 'Australia/Sydney').split('/').pop()?.replace(/_/g, ' '),
      archived_at: null,
    });
  }
  for (const t of seed.appointment_types) {
    state.insert('appointment_types', { ...t, max_attendees: 1, archived_at: null });
  }
  if (state.count('referral_source_types') === 0) {
    state.insert('referral_source_types', { name: 'Patient', referrer_type: 'Patient', subcategories: null });
    state.insert('referral_source_types', { name: 'Contact', referrer_type: 'Contact', subcategories: null });
    state.insert('referral_source_types', { name: 'Other', referrer_type: null, subcategories: null });
    state.insert('referral_source_types', {
      name: 'Advertising',
      referrer_type: null,
      subcategories: ['Google', 'Newspaper', 'Radio'],
    });
  }
}
