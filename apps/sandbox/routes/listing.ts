import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiBase } from '../context.js';
import { FilterError, parseFilter, queryFilters } from '../filters.js';
import type { SandboxOptions } from '../options.js';
import { present, type ResourceSpec } from '../resources.js';
import type { Rec } from '../state.js';

/**
 * Answers a list as Cliniko does (Cliniko's API documentation on pagination, filtering and
 * sorting): `q[]` filters (unknown field: 400), archived (and cancelled) rows hidden unless named,
 * `sort`/`order`, `per_page` (50 by default, at most 100: clamped, or 400 with
 * `perPageOverflow: 'error'`), `page`, and `links` to the pages.
 */
/**
 * A table's lists by query (filters and order, not the page), while the table is unchanged: the
 * state hands out the same array until a record changes (SandboxState.all), so paging through a
 * 300,000-record table filters and sorts it once, not for every page, as Cliniko's own index does.
 */
const cache = new WeakMap<readonly Rec[], Map<string, Rec[]>>();

export function listRecords(
  options: Pick<SandboxOptions, 'perPageOverflow'>,
  req: FastifyRequest,
  reply: FastifyReply,
  spec: ResourceSpec,
  records: readonly Rec[],
) {
  const query = req.query as Record<string, unknown>;
  let parsed: ReturnType<typeof parseFilter>[];
  try {
    parsed = queryFilters(query).map((f) => parseFilter(f, spec.filters));
  } catch (err) {
    if (err instanceof FilterError) return reply.code(400).send({ message: err.message });
    throw err;
  }
  const sort = typeof query.sort === 'string' ? query.sort : undefined;
  const signature = JSON.stringify([queryFilters(query), sort, query.order === 'desc']);
  let listed = cache.get(records);
  if (!listed) {
    listed = new Map();
    cache.set(records, listed);
  }
  let rows = listed.get(signature);
  if (!rows) {
    const named = new Set(parsed.map((f) => f.field));
    rows = records.filter((r) => spec.hideWhenSet.every((f) => named.has(f) || r[f] == null));
    for (const f of parsed) rows = rows.filter(f.test);
    rows = sortRows(rows, sort, query.order === 'desc');
    // a few lists of each table at once: a per-patient read asks a new one for every patient
    if (listed.size >= 8) listed.clear();
    listed.set(signature, rows);
  }

  const rawPerPage = query.per_page === undefined ? 50 : Number(query.per_page);
  if (
    !Number.isInteger(rawPerPage) ||
    ((rawPerPage < 1 || rawPerPage > 100) && options.perPageOverflow === 'error')
  ) {
    return reply.code(400).send({ message: 'per_page must be between 1 and 100' });
  }
  const perPage = Math.min(100, Math.max(1, rawPerPage));
  const page = Math.max(1, Number.parseInt(String(query.page ?? '1'), 10) || 1);
  const total = rows.length;
  const slice = rows.slice((page - 1) * perPage, page * perPage);
  const base = apiBase(req);
  const pathOnly = req.url.split('?')[0]?.replace(/^\/v1/, '') ?? '';
  const pageUrl = (n: number) => {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '');
    params.set('page', String(n));
    return `${base}${pathOnly}?${params.toString()}`;
  };
  const links: Record<string, string> = { self: pageUrl(page) };
  if (page * perPage < total) links.next = pageUrl(page + 1);
  if (page > 1) links.previous = pageUrl(page - 1);
  return reply.send({
    [spec.collection]: slice.map((r) => present(spec, r, base)),
    total_entries: total,
    links,
  });
}

function sortRows(rows: Rec[], sort: string | undefined, legacyDesc: boolean): Rec[] {
  const keys = (sort ?? 'created_at')
    .split(',')
    .filter(Boolean)
    .map((part) => {
      const [field, dir] = part.split(':');
      return { field: field ?? 'created_at', desc: dir === 'desc' || (dir === undefined && legacyDesc) };
    });
  const cmpIds = (a: Rec, b: Rec) => (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
  return [...rows].sort((a, b) => {
    for (const { field, desc } of keys) {
      const av = a[field];
      const bv = b[field];
      if (av === bv) continue;
      if (av == null) return desc ? 1 : -1;
      if (bv == null) return desc ? -1 : 1;
      const c = field === 'id' ? cmpIds(a, b) : av < bv ? -1 : 1;
      return desc ? -c : c;
    }
    return cmpIds(a, b);
  });
}
