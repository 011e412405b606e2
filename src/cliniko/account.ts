import { z } from 'zod';
import type { ClinikoClient } from './client.js';

/**
 * Which Cliniko account a run reads and writes. Everything a run remembers (id map, claims,
 * approvals, dry runs) is scoped to (clinic, account), because a record id of one account means
 * nothing in another: a clinic that rehearses in a trial account and then migrates into its
 * production account must start the second from an empty map (issue 11; docs/RUNNING.md,
 * docs/REPORT.md).
 */
export const ClinikoAccount = z
  .object({
    /** The shard the keys belong to (`au1`, `uk2`, …): account ids are unique within a shard. */
    shard: z.string(),
    /** `GET /settings/public` → `account.id` (a 64-bit id, as a string). */
    id: z.string(),
    name: z.string().optional(),
    subdomain: z.string().optional(),
    /** The account's business names, as the report names the account (docs/REPORT.md). */
    businesses: z.array(z.string()).readonly(),
  })
  .readonly();
export type ClinikoAccount = z.output<typeof ClinikoAccount>;

export class AccountMismatchError extends Error {
  override name = 'AccountMismatchError';
}

/**
 * Reads the account every key belongs to. All keys of a run must belong to one account (the run's
 * writes are spread over them); a key of another account is refused, naming the keys by position.
 * Errors: `AccountMismatchError`; Cliniko errors (401, …) pass through.
 */
export async function identifyAccount(
  clients: readonly ClinikoClient[],
  businesses: readonly { business_name?: string | null }[],
): Promise<ClinikoAccount> {
  let first: (ClinikoAccount & { key: number }) | undefined;
  // Asked of every key at once (one Cliniko round trip, however many keys), judged in key order.
  const answers = await Promise.allSettled(clients.map((c) => c.getPublicSettings()));
  for (const [i, client] of clients.entries()) {
    const answer = answers[i];
    if (!answer || answer.status === 'rejected') throw answer?.reason;
    const account = answer.value.account;
    if (!account)
      throw new AccountMismatchError(`API key ${i + 1}: Cliniko did not say which account it belongs to`);
    const shard = client.key.shard;
    if (!first) {
      first = {
        key: i,
        shard,
        id: account.id,
        ...(account.name ? { name: account.name } : {}),
        ...(account.subdomain ? { subdomain: account.subdomain } : {}),
        businesses: businesses.map((b) => b.business_name ?? '').filter(Boolean),
      };
      continue;
    }
    if (first.shard !== shard || first.id !== account.id)
      throw new AccountMismatchError(
        `API key ${i + 1} belongs to another Cliniko account (${shard} ${account.subdomain ?? account.id}) than key ${first.key + 1} (${first.shard} ${first.subdomain ?? first.id}): all keys of a clinic must be users of one account`,
      );
  }
  if (!first) throw new AccountMismatchError('no API key');
  const { key: _key, ...out } = first;
  return out;
}

/** `<shard>-<account id>`: the account part of every state key. */
export const accountKey = (account: Pick<ClinikoAccount, 'shard' | 'id'>): string =>
  `${account.shard}-${account.id}`;

/** The scope of a clinic's state in one account: `<clinic>@<shard>-<account id>`. */
export const stateScope = (clinicId: string, account: Pick<ClinikoAccount, 'shard' | 'id'>): string =>
  `${clinicId}@${accountKey(account)}`;

/** How the run header, `status` and the report name an account. */
export function describeAccount(account: ClinikoAccount): string {
  const name = account.name ?? account.subdomain ?? `account ${account.id}`;
  const where = account.businesses.length ? `: ${account.businesses.join(', ')}` : '';
  return `${name} (${account.shard}, id ${account.id}${where})`;
}
