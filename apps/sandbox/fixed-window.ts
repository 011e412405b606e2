/**
 * Cliniko's limit as we model it: a fixed window per user (the window type is unconfirmed). A
 * limit of 0 is no limit, as `sandbox --rate-limit 0` documents it (issue 23): every request is
 * let through and none counted.
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    public limit: number,
    public windowMs: number,
  ) {}

  /** Returns undefined when allowed, else the window's reset time in ms. */
  hit(userId: string, now: number): number | undefined {
    if (this.limit <= 0) return undefined;
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    let w = this.windows.get(userId);
    if (!w || w.start !== start) {
      w = { start, count: 0 };
      this.windows.set(userId, w);
    }
    if (w.count >= this.limit) return start + this.windowMs;
    w.count++;
    return undefined;
  }
}
