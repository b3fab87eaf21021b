/** Discord snowflakes: ms since the Discord epoch (2015-01-01) << 22, plus worker/process/increment bits. */
const DISCORD_EPOCH = 1_420_070_400_000n;

let increment = 0n;

export function snowflake(at: number = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return (((BigInt(at) - DISCORD_EPOCH) << 22n) | (1n << 17n) | increment).toString();
}
