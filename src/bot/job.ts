/** The member-facing strength knob: the command's named choices and the Stronger / Weaker steps. */

export const STRENGTH_CHOICES = { subtle: 0.3, balanced: 0.5, strong: 0.75 } as const;
export type StrengthName = keyof typeof STRENGTH_CHOICES;
/** How far Stronger / Weaker move the strength. */
export const STRENGTH_STEP = 0.15;
const STRENGTH_RANGE = [0.05, 0.95] as const;

export function clampStrength(strength: number): number {
  return Math.round(Math.min(STRENGTH_RANGE[1], Math.max(STRENGTH_RANGE[0], strength)) * 100) / 100;
}

export function describeStrength(strength: number): string {
  const named = Object.entries(STRENGTH_CHOICES).find(([, value]) => value === strength);
  return named ? named[0] : `${Math.round(strength * 100)}%`;
}
