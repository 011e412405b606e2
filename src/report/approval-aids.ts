import type { Problem } from '../core/problem.js';
import {
  type AidsSnapshot,
  APPOINTMENT_SAMPLE,
  type ApprovalAids,
  type BusyWeek,
  CLIENT_SAMPLE,
  type ClientDocuments,
  type WeekCounts,
} from './aids-model.js';
import { keepLowest } from './aids-sampling.js';

/**
 * What a clinic checks by hand before it signs off (docs/REPORT.md, The approval aids), done for
 * it: 20 clients field by field as exported and as sent to Cliniko, the busiest week's appointments
 * per practitioner and location, appointments shown in local time and in the business's zone with
 * DST edge cases, each sampled client's notes in date order and attachments with bytes, and date
 * columns whose day/month order is ambiguous.
 *
 * Samples are deterministic: the records whose source ids hash lowest. So the same export gives
 * the same sample however it is split into batches, and batch collectors merge exactly: a
 * client in the overall sample is always among the lowest hashes of any batch that holds it.
 */
export { AidCollector } from './aid-collector.js';
export * from './aids-model.js';
export { weekOf } from './aids-sampling.js';

/** Merges batch snapshots and the run's problems into the report's approval aids. */
export function approvalAids(
  snapshots: readonly AidsSnapshot[],
  problems: readonly Problem[],
  names: {
    practitioner?: (sourceId: string) => string | undefined;
    location?: (sourceId: string) => string | undefined;
  } = {},
): ApprovalAids {
  const clients = keepLowest(
    snapshots.flatMap((s) => s.clients),
    (c) => c.sourceId,
    CLIENT_SAMPLE,
  );
  const sampled = clients.map((c) => c.sourceId);
  const weeks: Record<string, WeekCounts> = {};
  for (const s of snapshots)
    for (const [week, w] of Object.entries(s.weeks)) {
      const into = weeks[week] ?? { total: 0, byPractitioner: {}, byLocation: {} };
      weeks[week] = into;
      into.total += w.total;
      for (const [k, n] of Object.entries(w.byPractitioner))
        into.byPractitioner[k] = (into.byPractitioner[k] ?? 0) + n;
      for (const [k, n] of Object.entries(w.byLocation)) into.byLocation[k] = (into.byLocation[k] ?? 0) + n;
    }
  // The busiest week; the earliest of equals, so the choice never depends on order.
  const busiest = Object.entries(weeks).sort(([a, x], [b, y]) => y.total - x.total || (a < b ? -1 : 1))[0];
  let busiestWeek: BusyWeek | null = null;
  if (busiest) {
    const [weekStart, w] = busiest;
    const end = new Date(`${weekStart}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 6);
    busiestWeek = {
      weekStart,
      weekEnd: end.toISOString().slice(0, 10),
      appointments: w.total,
      byPractitioner: Object.entries(w.byPractitioner)
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([sourceId, source]) => {
          const name = names.practitioner?.(sourceId);
          return { sourceId, ...(name ? { name } : {}), source };
        }),
      byLocation: Object.entries(w.byLocation)
        .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
        .map(([sourceId, source]) => {
          const name = names.location?.(sourceId);
          return { sourceId, ...(name ? { name } : {}), source };
        }),
    };
  }
  const documents: Record<string, ClientDocuments> = {};
  for (const s of snapshots)
    for (const [id, d] of Object.entries(s.documents)) {
      if (!sampled.includes(id)) continue;
      const into = documents[id] ?? { notes: [], letters: 0, uploads: 0, bytes: 0 };
      documents[id] = into;
      into.notes.push(...d.notes);
      into.letters += d.letters;
      into.uploads += d.uploads;
      into.bytes += d.bytes;
    }
  const totals = { letters: 0, uploads: 0, bytes: 0 };
  for (const s of snapshots) {
    totals.letters += s.documentTotals.letters;
    totals.uploads += s.documentTotals.uploads;
    totals.bytes += s.documentTotals.bytes;
  }
  return {
    clientSample: clients,
    busiestWeek,
    appointmentSample: keepLowest(
      snapshots.flatMap((s) => s.appointments),
      (a) => a.sourceId,
      APPOINTMENT_SAMPLE,
    ).map((a) => {
      const practitionerName = names.practitioner?.(a.practitionerSourceId);
      const locationName = a.locationSourceId ? names.location?.(a.locationSourceId) : undefined;
      return {
        ...a,
        ...(practitionerName ? { practitionerName } : {}),
        ...(locationName ? { locationName } : {}),
      };
    }),
    dstEdgeCases: problems
      .filter((p) => p.code === 'DST_GAP' || p.code === 'DST_OVERLAP')
      .slice(0, 100)
      .map(({ sourceId, file, row, code, message }) => ({ sourceId, file, row, code, message })),
    notesByClient: sampled
      .filter((id) => documents[id]?.notes.length)
      .map((id) => {
        const exported = [...(documents[id]?.notes ?? [])].sort((a, b) => a.row - b.row);
        const sorted = [...exported].sort((a, b) =>
          a.date === b.date
            ? a.sourceId.localeCompare(b.sourceId, 'en', { numeric: true })
            : a.date < b.date
              ? -1
              : 1,
        );
        return {
          clientSourceId: id,
          notes: sorted,
          // as exported: were they already in date order (the PDF puts them in order either way)?
          inDateOrder: exported.every((n, i) => i === 0 || (exported[i - 1]?.date ?? '') <= n.date),
        };
      }),
    attachmentsByClient: sampled
      .filter((id) => (documents[id]?.letters ?? 0) + (documents[id]?.uploads ?? 0) > 0)
      .map((id) => ({
        clientSourceId: id,
        letters: documents[id]?.letters ?? 0,
        uploads: documents[id]?.uploads ?? 0,
        bytes: documents[id]?.bytes ?? 0,
      })),
    attachmentTotals: totals,
    ambiguousDateColumns: problems
      .filter((p) => p.code === 'DATE_ORDER_AMBIGUOUS')
      .map(({ file, field, message }) => ({ file, field, message })),
  };
}
