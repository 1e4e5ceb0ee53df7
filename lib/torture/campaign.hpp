// A torture campaign: `torture --seeds A..B [--shard I/N]`. Each seed of the
// shard gets a fresh filesystem and a budget (--duration of wall time, or
// --ops ops); run_torture runs it. A failure ends the seed, unless it is a
// known signature for this kernel (known-failures.txt; not with --strict) or
// --keep-going: then it is recorded (op log; the shrunk repro for a failure
// that is not known), and the next sub-run (another torture seed, derived
// from the seed and the sub-run number) goes on with what is left of the
// budget on a fresh filesystem. A hang ends the campaign.
//
// results/<run>/campaign.json lists every sub-run (its seed, status,
// signature, repro); junit.xml, check.log and kcidb.json beside it; each
// sub-run's own directory is results/<run>/seed-S.k/torture/.
#pragma once

#include <filesystem>
#include <ostream>
#include <vector>

#include "lib/harness/known_failures.hpp"
#include "lib/harness/kcidb.hpp"
#include "lib/harness/shard.hpp"
#include "lib/torture/torture.hpp"

namespace dt {

struct CampaignConfig {
  TortureConfig base;  // everything but the seed, the budget's remainder and where it writes
  SeedRange seeds;
  Shard shard;
  bool keep_going = false;
  bool strict = false;
  std::filesystem::path known_failures_file;
  std::vector<KnownFailure> known_failures;
  KcidbIds kcidb;
};

// The torture seed of sub-run k of campaign seed s: s itself first, then
// others the user can rerun with `torture --seed`.
uint64_t subrun_seed(uint64_t seed, unsigned k);

// Returns 0 (every sub-run passed or failed known), 1 (a failure), 3 (a hang).
int run_campaign(const CampaignConfig& cfg, std::ostream& out);

}  // namespace dt
