// Options of the nightly-CI features, declared once for every command that
// takes them: the KCIDB ids (run, torture --seeds, merge) and --shard.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "lib/harness/kcidb.hpp"
#include "lib/sys/sys.hpp"

namespace dt {

struct KcidbFlags {
  std::string origin, checkout_id, build_id;
  KcidbIds ids() const { return kcidb_ids(origin, checkout_id, build_id, kernel_release()); }
  KcidbIds ids(const std::string& kernel) const { return kcidb_ids(origin, checkout_id, build_id, kernel); }
};

inline void add_kcidb_options(CLI::App& sub, KcidbFlags* f) {
  sub.add_option("--kcidb-origin", f->origin,
                 "KCIDB origin (the CI system) kcidb.json names (default: KCIDB_ORIGIN, else diotorture)")
      ->group("KCIDB");
  sub.add_option("--kcidb-checkout-id", f->checkout_id,
                 "KCIDB checkout id, origin:id (default: KCIDB_CHECKOUT_ID, else <origin>:<kernel release>)")
      ->group("KCIDB");
  sub.add_option("--kcidb-build-id", f->build_id,
                 "KCIDB build id, origin:id (default: KCIDB_BUILD_ID, else <origin>:<kernel release>)")
      ->group("KCIDB");
}

}  // namespace dt
