#include "lib/nightly/signature.hpp"

#include <fnmatch.h>

#include <fmt/format.h>

#include <cctype>

#include "lib/sys/sys.hpp"

namespace dt {

std::string signature_title(const std::string& kind, const std::string& op, const std::string& msg) {
  std::string m;
  for (size_t i = 0; i < msg.size();) {
    const auto is_alpha = [&](size_t at) { return at < msg.size() && std::isalpha(static_cast<unsigned char>(msg[at])); };
    const bool hex = msg.compare(i, 2, "0x") == 0 && i + 2 < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[i + 2]));
    if (hex) {
      i += 2;
      while (i < msg.size() && std::isxdigit(static_cast<unsigned char>(msg[i]))) ++i;
      m += 'N';
    } else if (std::isdigit(static_cast<unsigned char>(msg[i]))) {
      size_t j = i;
      while (j < msg.size() && std::isdigit(static_cast<unsigned char>(msg[j]))) ++j;
      // Digits inside a word ("b2c") are part of it; a number, or one ending
      // a name ("loop3", "f0"), is not.
      const bool inside_word = i > 0 && is_alpha(i - 1) && is_alpha(j);
      m += inside_word ? msg.substr(i, j - i) : "N";
      i = j;
    } else {
      m += msg[i++];
    }
  }
  // The first line only: a kernel-log finding may carry more.
  if (size_t nl = m.find('\n'); nl != std::string::npos) m.resize(nl);
  return fmt::format("{} in {}: {}", kind, op, trim(m));
}

bool is_signature_entry(const KnownFailure& k) { return k.case_id.rfind(kSignaturePrefix, 0) == 0; }

namespace {
struct Pattern {
  std::string kind;
  std::vector<std::string> ops;
  std::string msg = "*";
};

bool parse_pattern(const std::string& id, Pattern* p) {
  const std::string rest = id.substr(std::string(kSignaturePrefix).size());
  const size_t c1 = rest.find(':');
  if (c1 == std::string::npos || c1 == 0) return false;
  p->kind = rest.substr(0, c1);
  const size_t c2 = rest.find(':', c1 + 1);
  const std::string ops = rest.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
  for (const auto& o : split(ops, ','))
    if (!o.empty()) p->ops.push_back(o);
  if (c2 != std::string::npos) p->msg = rest.substr(c2 + 1);
  return !p->ops.empty() && !p->msg.empty();
}
}  // namespace

void check_signature_entries(const std::vector<KnownFailure>& list) {
  Pattern p;
  for (const KnownFailure& k : list)
    if (is_signature_entry(k) && !parse_pattern(k.case_id, &p))
      throw SetupError(fmt::format("{}: '{}' is not a torture signature; write torture:KIND:OPS[:MESSAGE-GLOB], "
                                   "e.g. torture:eio:pwrite,uring-write:*EIO",
                                   k.where, k.case_id));
}

const KnownFailure* find_known_signature(const std::vector<KnownFailure>& list, const std::string& kind,
                                         const std::string& op, const std::string& msg, const std::string& release) {
  for (const KnownFailure& k : list) {
    Pattern p;
    if (!is_signature_entry(k) || !parse_pattern(k.case_id, &p)) continue;
    if (::fnmatch(p.kind.c_str(), kind.c_str(), 0) != 0 || ::fnmatch(p.msg.c_str(), msg.c_str(), 0) != 0) continue;
    bool op_ok = false;
    for (const auto& o : p.ops) op_ok = op_ok || ::fnmatch(o.c_str(), op.c_str(), 0) == 0;
    if (!op_ok) continue;
    // The kernel globs are the case entries' own: one matcher for both.
    KnownFailure only = k;
    if (find_known_failure({only}, k.case_id, release)) return &k;
  }
  return nullptr;
}

}  // namespace dt
