/** Counts every Cliniko request by HTTP status (or `network` when none came back), for the run's report. */
export class RequestCounter {
  private readonly counts = new Map<string, number>();

  record(status: number | 'network'): void {
    const key = String(status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  byStatus(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  merge(other: Record<string, number>): void {
    for (const [status, n] of Object.entries(other))
      this.counts.set(status, (this.counts.get(status) ?? 0) + n);
  }
}
