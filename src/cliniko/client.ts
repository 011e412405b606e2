import { ClinikoHttp } from './http.js';
import { withAppointmentTypes } from './resources/appointment-types.js';
import { withAppointments } from './resources/appointments.js';
import { withAttachments } from './resources/attachments.js';
import { withContacts } from './resources/contacts.js';
import { withPatients } from './resources/patients.js';
import { withReferenceData } from './resources/settings.js';
import { withTreatmentNotes } from './resources/treatment-notes.js';

export {
  type ClinikoClientOptions,
  type CreateOnceResult,
  DEFAULT_USER_AGENT,
  filters,
  type Query,
  type RetryEvent,
  type RetryPolicy,
  refound,
} from './http.js';
export { type AttachmentUpload, FILENAME_PLACEHOLDER, joinUploadUrl } from './upload.js';

/**
 * The one Cliniko client callers use: the HTTP core (http.ts: auth, rate limiter, retries, error
 * classification) with every resource this tool reads or writes (resources/*.ts, one file per
 * resource of Cliniko's API) and the attachment upload (upload.ts). A resource added to the client
 * is a new `with…` module composed here. It imports nothing from AWS and works against real Cliniko
 * and the sandbox alike.
 */
export class ClinikoClient extends withAttachments(
  withTreatmentNotes(
    withAppointments(withAppointmentTypes(withContacts(withPatients(withReferenceData(ClinikoHttp))))),
  ),
) {}
