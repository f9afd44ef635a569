/** What one request costs against a key's budget. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until one request is allowed again (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per key, in this process's memory: `perMinute` requests may burst at once, and the budget refills
 * evenly over the minute. Several service instances each keep their own buckets.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  take(keyId: string, perMinute: number): RateDecision {
    if (perMinute <= 0) return { allowed: true, limit: 0, remaining: 0, retryAfterSeconds: 0 };

    const bucket = this.refilled(keyId, perMinute);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, limit: perMinute, remaining: Math.floor(bucket.tokens), retryAfterSeconds: 0 };
    }

    const secondsPerToken = 60 / perMinute;
    const retryAfterSeconds = Math.max(1, Math.ceil((1 - bucket.tokens) * secondsPerToken));
    return { allowed: false, limit: perMinute, remaining: 0, retryAfterSeconds };
  }

  private refilled(keyId: string, perMinute: number): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(keyId) ?? { tokens: perMinute, updatedAt: now };
    const elapsedMinutes = Math.max(0, now - bucket.updatedAt) / 60_000;
    bucket.tokens = Math.min(perMinute, bucket.tokens + elapsedMinutes * perMinute);
    bucket.updatedAt = now;
    this.buckets.set(keyId, bucket);

    return bucket;
  }
}
