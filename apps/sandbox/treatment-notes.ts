/**
 * The structured body of treatment notes and their templates (`content.sections[]`), checked the
 * way Cliniko's API documentation (treatment notes and their templates) and
 * contract/cliniko-openapi.yaml describe it: each section `{name ≤255,
 * description ≤10,000, questions[]}`; each question needs `name` (≤255) and `type` ∈ text,
 * paragraph, checkboxes, radiobuttons, date, bodycharts; `text`/`paragraph` carry `answer`,
 * `date` a `YYYY-MM-DD` answer, `checkboxes`/`radiobuttons` `answers: [{value, selected}]`
 * (never an empty array; at most one selected radio, none when `other` is selected),
 * `bodycharts` existing `body_chart_ids`. Paragraph answers keep only the tags the spec allows;
 * other markup is stripped, and so are `\n`, `\r`, `\t` (old docs): newlines must come as `<br>`.
 */
export const QUESTION_TYPES = [
  'text',
  'paragraph',
  'checkboxes',
  'radiobuttons',
  'date',
  'bodycharts',
] as const;

/** Tags a paragraph answer may hold (openapi.yaml, the TreatmentNote tag description). */
const ALLOWED_TAGS = new Set([
  'p',
  'div',
  'br',
  'ul',
  'ol',
  'li',
  'blockquote',
  'h1',
  'h2',
  'b',
  'i',
  'u',
  'a',
]);

/**
 * Content may come as an object or as a JSON-encoded string (Cliniko's API documentation on
 * treatment notes: both appear to be accepted).
 */
export function parseContent(raw: unknown): { content?: unknown; error?: string } {
  if (typeof raw !== 'string') return { content: raw };
  try {
    return { content: JSON.parse(raw) };
  } catch {
    return { error: 'is invalid' };
  }
}

/**
 * Checks `content` and returns it as stored (paragraph answers sanitised), or the 422 errors
 * keyed like Cliniko's (`content`). `kind` `template`: answers are not part of a template.
 */
export function checkContent(
  raw: unknown,
  kind: 'note' | 'template',
): { content: unknown; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const parsed = parseContent(raw);
  if (parsed.error) return { content: raw, errors: { content: parsed.error } };
  const content = parsed.content;
  if (content === null || content === undefined) {
    if (kind === 'template') errors.content = "can't be blank";
    return { content: null, errors };
  }
  if (typeof content !== 'object' || Array.isArray(content))
    return { content, errors: { content: 'is invalid' } };
  const sections = (content as { sections?: unknown }).sections;
  if (!Array.isArray(sections)) return { content, errors: { content: 'sections must be an array' } };
  const out: unknown[] = [];
  for (const [si, section] of sections.entries()) {
    const at = `content.sections[${si}]`;
    if (!section || typeof section !== 'object') {
      errors[at] = 'is invalid';
      continue;
    }
    const s = section as Record<string, unknown>;
    if (s.name != null && (typeof s.name !== 'string' || s.name.length > 255))
      errors[`${at}.name`] = 'is too long (maximum is 255 characters)';
    if (s.description != null && (typeof s.description !== 'string' || s.description.length > 10_000))
      errors[`${at}.description`] = 'is too long (maximum is 10000 characters)';
    if (!Array.isArray(s.questions)) {
      errors[`${at}.questions`] = 'must be an array';
      continue;
    }
    const questions: unknown[] = [];
    for (const [qi, question] of s.questions.entries()) {
      const qat = `${at}.questions[${qi}]`;
      const q =
        question && typeof question === 'object' ? { ...(question as Record<string, unknown>) } : undefined;
      if (!q) {
        errors[qat] = 'is invalid';
        continue;
      }
      if (typeof q.name !== 'string' || !q.name.trim()) errors[`${qat}.name`] = "can't be blank";
      else if (q.name.length > 255) errors[`${qat}.name`] = 'is too long (maximum is 255 characters)';
      if (!QUESTION_TYPES.includes(q.type as (typeof QUESTION_TYPES)[number])) {
        errors[`${qat}.type`] = 'is not included in the list';
        continue;
      }
      if (kind === 'note') checkAnswer(q, qat, errors);
      else if ((q.type === 'checkboxes' || q.type === 'radiobuttons') && Array.isArray(q.answers)) {
        if (!q.answers.length) errors[`${qat}.answers`] = "can't be empty (leave it out instead)";
      }
      questions.push(q);
    }
    out.push({ ...s, questions });
  }
  return { content: { ...(content as object), sections: out }, errors };
}

function checkAnswer(q: Record<string, unknown>, at: string, errors: Record<string, string>): void {
  switch (q.type) {
    case 'text':
    case 'paragraph':
      if (q.answer == null) return;
      if (typeof q.answer !== 'string') {
        errors[`${at}.answer`] = 'must be a string';
        return;
      }
      if (q.type === 'paragraph') q.answer = sanitiseParagraph(q.answer);
      else if (q.answer.length > 255) errors[`${at}.answer`] = 'is too long (maximum is 255 characters)';
      return;
    case 'date':
      if (q.answer != null && (typeof q.answer !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(q.answer)))
        errors[`${at}.answer`] = 'is not a date (YYYY-MM-DD)';
      return;
    case 'bodycharts':
      if (q.body_chart_ids !== undefined && (!Array.isArray(q.body_chart_ids) || !q.body_chart_ids.length))
        errors[`${at}.body_chart_ids`] = "can't be empty (leave it out instead)";
      return;
    case 'checkboxes':
    case 'radiobuttons': {
      if (q.answers === undefined) return;
      if (!Array.isArray(q.answers) || !q.answers.length) {
        errors[`${at}.answers`] = "can't be empty (leave it out instead)";
        return;
      }
      const selected = q.answers.filter((a) => (a as { selected?: unknown })?.selected === true).length;
      const other = (q.other as { selected?: unknown } | undefined)?.selected === true;
      if (q.type === 'radiobuttons' && selected + (other ? 1 : 0) > 1)
        errors[`${at}.answers`] = 'at most one answer can be selected';
      return;
    }
  }
}

/**
 * Keeps the allowed tags (without attributes, except `href` on `a`), drops every other tag, and
 * strips `\n`, `\r` and `\t`. Escaped `&lt;` / `&gt;` stay as they are: that is how a literal
 * `<` or `>` is sent.
 */
export function sanitiseParagraph(html: string): string {
  return html
    .replace(/[\n\r\t]/g, '')
    .replace(
      /<\s*(\/?)\s*([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g,
      (_m, slash: string, tag: string, attrs: string) => {
        const name = tag.toLowerCase();
        if (!ALLOWED_TAGS.has(name)) return '';
        const href = name === 'a' && !slash ? /\shref\s*=\s*"([^"]*)"/i.exec(attrs)?.[1] : undefined;
        return `<${slash}${name}${href !== undefined ? ` href="${href}"` : ''}>`;
      },
    )
    .replace(/<(?![a-zA-Z/])/g, '');
}
