// scripts/bench.sh's numbers for WixauthStrategy (copied into a project where the packed tarballs
// are installed; wixauth's environment is set up by the script, with a cached token):
//   cold: a new strategy's first getAuthHeaders() = one `wixauth token --json` start, a cache hit
//   warm: getAuthHeaders() with the token in memory
// Prints one JSON line: {"cold_ms": {median, p90, min, max, runs}, "warm_ms_per_call", "warm_calls"}.
import { WixauthStrategy } from 'wixauth';

const coldRuns = Number(process.argv[2] || 50);
const warmCalls = Number(process.argv[3] || 200000);

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const quantile = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

// A first start outside the timings: the binary's pages into the page cache.
await WixauthStrategy().getAuthHeaders();

const cold = [];
for (let i = 0; i < coldRuns; i++) {
  const s = WixauthStrategy();
  const t0 = process.hrtime.bigint();
  await s.getAuthHeaders();
  cold.push(ms(t0));
}
cold.sort((a, b) => a - b);

const warm = WixauthStrategy();
await warm.getAuthHeaders();
for (let i = 0; i < 10000; i++) {
  await warm.getAuthHeaders();
}
const t0 = process.hrtime.bigint();
for (let i = 0; i < warmCalls; i++) {
  await warm.getAuthHeaders();
}
const warmPerCall = ms(t0) / warmCalls;

console.log(
  JSON.stringify({
    cold_ms: { median: quantile(cold, 0.5), p90: quantile(cold, 0.9), min: cold[0], max: cold[cold.length - 1], runs: coldRuns },
    warm_ms_per_call: warmPerCall,
    warm_calls: warmCalls,
  })
);
