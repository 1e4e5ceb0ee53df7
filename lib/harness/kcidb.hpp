// KernelCI's KCIDB I/O schema, version 5.3: what `run`, `torture --seeds`
// and `merge` write as kcidb.json, and a validator of the facts that schema
// states (required fields, types, id and origin formats, test paths, status
// values, lengths, no nulls, no unknown properties), written from the
// schema's text, so a CI can check a file before `kcidb-submit`.
//
// One checkout and one build per file (the kernel under test); a test per
// case, per parameter combination (diotorture.<case>.<combination>), per
// torture sub-run (diotorture.torture) and per bench cell
// (diotorture.bench.<op>-<engine>-<target>, DONE with its MiB/s).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dt {

struct KcidbIds {
  std::string origin;       // the CI system: [a-z0-9_]+
  std::string checkout_id;  // "origin:..."
  std::string build_id;     // "origin:..."
};

// Flags win, then KCIDB_ORIGIN / KCIDB_CHECKOUT_ID / KCIDB_BUILD_ID from the
// environment, then defaults: origin "diotorture", checkout and build
// "<origin>:<kernel release>". A malformed origin or id is a SetupError
// naming the flag (or variable) and the form.
KcidbIds kcidb_ids(const std::string& origin_flag, const std::string& checkout_flag, const std::string& build_flag,
                   const std::string& kernel_release);

// A test path component: every character outside [A-Za-z0-9_-] becomes '_'
// ("nocow/size=64K,op=write" -> "nocow_size_64K_op_write").
std::string kcidb_path_part(const std::string& s);

// The kcidb.json of a results document: a run's summary.json (cases), a
// campaign's campaign.json (torture.subruns) or a merged summary.json (both,
// plus bench). Test ids are "<origin>:<hostname>.<run id>.<path>[.<n>]".
nlohmann::json kcidb_report(const KcidbIds& ids, const nlohmann::json& results);

// Every way `doc` departs from the KCIDB v5.3 schema, one line each ("" when
// it validates): "tests[3].status: 'OK' is not one of FAIL, ERROR, ...".
std::vector<std::string> kcidb_problems(const nlohmann::json& doc);

}  // namespace dt
