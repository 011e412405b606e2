import { z } from 'zod';

/**
 * Edit distance between two names: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each count 1 (optimal string alignment), so `timeZnoe` is 1 from `timeZone`.
 */
export function editDistance(a: string, b: string): number {
  // rows[i][j]: distance between a's first i characters and b's first j.
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const up = rows[i - 1] ?? [];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (up[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/**
 * The known name an unknown one was most likely meant to be, or undefined when none is close: the
 * same name in other capitals (`timezone` → `timeZone`), else the nearest within an edit distance
 * of 1 for names under 8 characters and 2 for longer ones (so `tz` is not taken for `id`). Ties go
 * to the name listed first.
 */
export function closestName(unknown: string, known: readonly string[]): string | undefined {
  const lower = unknown.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  const limit = unknown.length < 8 ? 1 : 2;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** The schemas a value at this schema may be checked by, looking through optional, default, pipes and unions. */
function alternatives(schema: z.core.$ZodType): z.core.$ZodType[] {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) return alternatives(schema.unwrap());
  if (schema instanceof z.ZodPipe) return alternatives(schema.in);
  if (schema instanceof z.ZodUnion) return schema.options.flatMap((o) => alternatives(o));
  return [schema];
}

/**
 * The field names an object at `path` (as zod's issues give it: object fields and record keys) may
 * have under `schema`: the union of every object schema that could check it, in declaration order.
 * Empty when no object is expected there.
 */
export function fieldsAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let here = alternatives(schema);
  for (const step of path) {
    here = here.flatMap((s) => {
      if (s instanceof z.ZodObject && typeof step === 'string') {
        const field: z.core.$ZodType | undefined = s.shape[step];
        return field ? alternatives(field) : [];
      }
      if (s instanceof z.ZodRecord) return alternatives(s.valueType);
      return [];
    });
  }
  const names = here.flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : []));
  return [...new Set(names)];
}
