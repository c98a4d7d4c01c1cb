/**
 * Folds one latency sample into a time-decayed peak EWMA (as Finagle's and Linkerd's balancers do):
 * a sample above the average is taken at once, so a slowing instance is avoided immediately; a
 * sample below it decays in with weight `1 - e^(-elapsed/decay)`, so recovery is believed gradually.
 * `prevMs <= 0` means "no sample yet", and the sample is taken as it is.
 */
export function updateEwma(
  prevMs: number,
  sampleMs: number,
  elapsedSinceLastMs: number,
  decayMs = 10_000,
): number {
  const sample = Math.max(0, sampleMs);
  if (!(prevMs > 0) || sample >= prevMs) return sample;
  // Weight by the time since the last sample, not by sample count: a busy instance's average then
  // moves as fast in seconds as an idle one's.
  const keep = Math.exp(-Math.max(0, elapsedSinceLastMs) / decayMs);
  return prevMs * keep + sample * (1 - keep);
}
