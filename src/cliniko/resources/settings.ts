import { filters, type HttpBase } from '../http.js';
import * as S from '../schemas.js';

/**
 * Reference data read before a run (Cliniko's API documentation on practitioners, users,
 * businesses, contacts and settings): the key's user and practitioner, the account's public
 * settings, practitioners, businesses, referral source types.
 */
export function withReferenceData<Base extends HttpBase>(Base: Base) {
  return class ReferenceData extends Base {
    getCurrentUser(): Promise<S.User> {
      return this.call('GET', '/user', { schema: S.User });
    }

    /** The account the key belongs to (`account.id`, `subdomain`, `name`). */
    getPublicSettings(): Promise<S.PublicSettings> {
      return this.call('GET', '/settings/public', { schema: S.PublicSettings });
    }

    /** Active practitioners, then (with `includeInactive`) the inactive ones from their own endpoint. */
    async listPractitioners(
      options: { includeInactive?: boolean; userId?: string } = {},
    ): Promise<S.Practitioner[]> {
      const q = options.userId ? filters({ user_id: `=${options.userId}` }) : undefined;
      const active = await this.listAll('/practitioners', 'practitioners', S.Practitioner, q);
      if (!options.includeInactive) return active;
      const inactive = await this.listAll('/practitioners/inactive', 'practitioners', S.Practitioner, q);
      return [...active, ...inactive];
    }

    listBusinesses(): Promise<S.Business[]> {
      return this.listAll('/businesses', 'businesses', S.Business);
    }

    listReferralSourceTypes(): Promise<S.ReferralSourceType[]> {
      return this.listAll('/referral_source_types', 'referral_source_types', S.ReferralSourceType);
    }

    /**
     * The practitioner this key writes as (Cliniko's API documentation on users): `GET /user`, then
     * its practitioner among the active and the inactive ones. `undefined`: the key's user is no
     * practitioner.
     */
    async keyPractitioner(): Promise<{ user: S.User; practitioner?: S.Practitioner }> {
      const user = await this.getCurrentUser();
      const [practitioner] = await this.listPractitioners({ includeInactive: true, userId: user.id });
      return { user, ...(practitioner ? { practitioner } : {}) };
    }
  };
}
