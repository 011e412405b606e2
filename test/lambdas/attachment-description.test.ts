import { describe, expect, it } from '@jest/globals';
import { attachmentDescription } from '../../src/mapping/attachment-description.js';

describe('attachment descriptions', () => {
  it('say date, subject, recipient and source id', () => {
    expect(
      attachmentDescription({
        sourceId: 'LT9',
        kind: 'letter',
        date: '2024-02-01',
        title: 'Letter to GP',
        recipientName: 'Dr Who',
      }),
    ).toBe('2024-02-01 Letter to GP to Dr Who [Letter LT9]');
    expect(attachmentDescription({ sourceId: 'U3', kind: 'upload' })).toBe('Upload [Upload U3]');
  });

  it('stay within 255 characters and always keep the source id (the key they are re-found by)', () => {
    const d = attachmentDescription({ sourceId: 'U77', kind: 'upload', title: 'x'.repeat(400) });
    expect([...d].length).toBe(255);
    expect(d.endsWith('… [Upload U77]')).toBe(true);
  });
});
