/** Pure size arithmetic; no pixels are touched here. */

export interface Size {
  readonly width: number;
  readonly height: number;
}

function assertPositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
}

/** Scales (up or down) so the long edge is exactly `longEdge`, keeping the aspect ratio; sides are integers ≥ 1. */
export function scaleToLongEdge(width: number, height: number, longEdge: number): Size {
  assertPositive("width", width);
  assertPositive("height", height);
  assertPositive("longEdge", longEdge);
  const target = Math.max(1, Math.round(longEdge));
  // Setting the long side directly (rather than multiplying it by a scale) keeps it exact despite rounding.
  if (width >= height) {
    return { width: target, height: Math.max(1, Math.round((height * target) / width)) };
  }
  return { width: Math.max(1, Math.round((width * target) / height)), height: target };
}

/** Like scaleToLongEdge, but never enlarges: a size that already fits comes back unchanged (rounded). */
export function fitWithin(width: number, height: number, longEdge: number): Size {
  assertPositive("width", width);
  assertPositive("height", height);
  assertPositive("longEdge", longEdge);
  if (Math.max(width, height) > longEdge) return scaleToLongEdge(width, height, longEdge);
  return { width: Math.max(1, Math.round(width)), height: Math.max(1, Math.round(height)) };
}
