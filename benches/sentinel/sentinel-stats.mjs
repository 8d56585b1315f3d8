// The Aztec node's own Sentinel statistics (npm @aztec/aztec-node 4.1.2, installed at run time by
// scripts/bench-sentinel) over a given status history: the other half of benches/benches/sentinel.rs.
//
//   node sentinel-stats.mjs <node_modules dir> <input.json> <output.json>
//
// Input: { historyLength, epochDuration, slotDuration, fromSlot, toSlot, reps,
//          slots: [{ slot, statuses: { "0x…": "attestation-sent", … } }, …] } — per slot, the statuses the
// Sentinel's store receives from `updateValidators`, in slot order.
// Output: { versions, kvStore, ingestMs, statsMs: [one per rep], stats: { "0x…": {…} } }, the stats as
// `computeStats` returns them, minus `history` and `address`, with `lastProposal`/`lastAttestation` reduced
// to their slot (or null).
//
// Everything that stores history and computes stats is the package's code: SentinelStore over the real
// LMDB v2 kv-store (`openTmpStore`, what the node's factory opens when it has no data directory), and
// Sentinel.computeStats. Only the Sentinel's collaborators are stand-ins: computeStats needs nothing from
// the archiver or p2p client, and from the epoch cache only the L1 constants (the constructor reads
// `ethereumSlotDuration`; lastProposal/lastAttestation turn slots into timestamps) and the current slot
// (only read when a bound is omitted, and both are given here).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, inputPath, outputPath] = process.argv.slice(2);
if (!modules || !inputPath || !outputPath) {
  console.error('usage: sentinel-stats.mjs <node_modules dir> <input.json> <output.json>');
  process.exit(2);
}
// The kv-store logs at info level on open; the harness's stdout is for its own lines.
process.env.LOG_LEVEL ??= 'warn';

const EXPECTED_VERSION = '4.1.2';
const nodeDir = join(modules, '@aztec', 'aztec-node');
// Resolved from the node package itself, so the store is the very kv-store its Sentinel would use.
const fromNode = createRequire(join(nodeDir, 'package.json'));
const kvStoreEntry = fromNode.resolve('@aztec/kv-store/lmdb-v2');
/** The version of the package holding `file` (its package.json is not exported, so found by walking up). */
function versionAt(file, name) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name: found, version } = JSON.parse(readFileSync(manifest, 'utf8'));
      if (found === name) return version;
    }
  }
  return 'not found';
}
const versions = {
  '@aztec/aztec-node': versionAt(join(nodeDir, 'dest', 'index.js'), '@aztec/aztec-node'),
  '@aztec/kv-store': versionAt(kvStoreEntry, '@aztec/kv-store'),
};
for (const [pkg, version] of Object.entries(versions)) {
  if (version !== EXPECTED_VERSION) {
    console.error(`${pkg} is ${version}, expected ${EXPECTED_VERSION}`);
    process.exit(2);
  }
}

// The Sentinel's modules are not in the package's exports map: imported by file.
const importFile = (path) => import(pathToFileURL(path).href);
const { SentinelStore } = await importFile(join(nodeDir, 'dest', 'sentinel', 'store.js'));
const { Sentinel } = await importFile(join(nodeDir, 'dest', 'sentinel', 'sentinel.js'));
const { openTmpStore } = await importFile(kvStoreEntry);

const input = JSON.parse(readFileSync(inputPath, 'utf8'));

/** The epoch cache surface computeStats and the constructor touch, and nothing more. */
function epochCacheStub() {
  const constants = {
    l1GenesisTime: 0n,
    slotDuration: input.slotDuration,
    epochDuration: input.epochDuration,
    ethereumSlotDuration: 12,
  };
  return {
    getL1Constants: () => constants,
    getEpochAndSlotNow: () => ({ slot: input.toSlot, epoch: Math.floor(input.toSlot / input.epochDuration) }),
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

/** A stat as plain JSON: the bench compares these fields and no others. */
function plain(stat) {
  return {
    totalSlots: stat.totalSlots,
    lastProposal: stat.lastProposal?.slot ?? null,
    lastAttestation: stat.lastAttestation?.slot ?? null,
    missedProposals: { ...stat.missedProposals, rate: stat.missedProposals.rate ?? null },
    missedAttestations: { ...stat.missedAttestations, rate: stat.missedAttestations.rate ?? null },
  };
}

const kv = await openTmpStore('sentinel-bench', true);
try {
  const store = new SentinelStore(kv, { historyLength: input.historyLength, historicProvenPerformanceLength: 0 });
  // The archiver, p2p client and config are never read by computeStats.
  const sentinel = new Sentinel(epochCacheStub(), undefined, undefined, store, {});

  let start = performance.now();
  for (const { slot, statuses } of input.slots) {
    await store.updateValidators(slot, statuses);
  }
  const ingestMs = performance.now() - start;

  const statsMs = [];
  let result;
  for (let rep = 0; rep < Math.max(1, input.reps); rep++) {
    start = performance.now();
    result = await sentinel.computeStats({ fromSlot: input.fromSlot, toSlot: input.toSlot });
    statsMs.push(performance.now() - start);
  }

  const stats = Object.fromEntries(Object.entries(result.stats).map(([who, stat]) => [who, plain(stat)]));
  writeFileSync(outputPath, JSON.stringify({ versions, kvStore: 'lmdb-v2 openTmpStore', ingestMs, statsMs, stats }));
  console.log(
    `sentinel: ${Object.keys(stats).length} validators, ingest ${ingestMs.toFixed(1)} ms, ` +
      `computeStats median ${median(statsMs).toFixed(2)} ms of ${statsMs.length}`,
  );
} finally {
  await kv.delete();
}
