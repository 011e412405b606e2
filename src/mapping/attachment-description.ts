/**
 * What Cliniko shows for a migrated letter or upload (at most 255 characters, Cliniko's API
 * documentation on patient attachments): date, subject or description, recipient, and the source id
 * in brackets, which also makes it the key the attachment is re-found by. Words that do not fit are
 * cut with "…" (the tag never is).
 */
export function attachmentDescription(d: {
  sourceId: string;
  kind: 'letter' | 'upload';
  date?: string;
  title?: string;
  recipientName?: string;
}): string {
  const tag = `[${d.kind === 'letter' ? 'Letter' : 'Upload'} ${d.sourceId}]`;
  const words = [
    d.date,
    d.title ?? (d.kind === 'letter' ? 'Letter' : 'Upload'),
    d.recipientName ? `to ${d.recipientName}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const room = 255 - tag.length - 1;
  return `${[...words].length > room ? `${[...words].slice(0, room - 1).join('')}…` : words} ${tag}`;
}
