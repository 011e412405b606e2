import { type CreateOnceResult, filters, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';

/**
 * Contacts (Cliniko's API documentation on contacts): listed, created once (re-found by names,
 * company, email, type).
 */
export function withContacts<Base extends HttpBase>(Base: Base) {
  return class Contacts extends Base {
    listContacts(q?: readonly string[]): Promise<S.Contact[]> {
      return this.listAll('/contacts', 'contacts', S.Contact, q);
    }

    createContact(body: S.ContactBody): Promise<S.Contact> {
      return this.call('POST', '/contacts', { schema: S.Contact, body, idempotent: false });
    }

    updateContact(id: S.ClinikoId, body: S.ContactBody): Promise<S.Contact> {
      return this.call('PATCH', `/contacts/${id}`, { schema: S.Contact, body });
    }

    /** Re-finds a contact by the fields the contract names: names, company, email and type. */
    async findContact(body: S.ContactBody): Promise<S.Contact | undefined> {
      const q = filters({
        last_name: body.last_name ? `=${body.last_name}` : undefined,
        first_name: body.first_name ? `=${body.first_name}` : undefined,
        company_name: body.company_name ? `=${body.company_name}` : undefined,
        type_code: body.type_code != null ? `=${body.type_code}` : undefined,
        archived_at: '*',
      });
      const same = (a: string | null | undefined, b: string | null | undefined) => (a ?? '') === (b ?? '');
      return refound(
        (await this.listContacts(q)).filter(
          (c) =>
            same(c.first_name, body.first_name) &&
            same(c.last_name, body.last_name) &&
            same(c.company_name, body.company_name) &&
            same(c.email, body.email),
        ),
      );
    }

    createContactOnce(body: S.ContactBody): Promise<CreateOnceResult<S.Contact>> {
      return this.createOnce(
        () => this.createContact(body),
        () => this.findContact(body),
      );
    }
  };
}
