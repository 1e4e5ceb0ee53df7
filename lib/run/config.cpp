#include "lib/run/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "lib/sys/sys.hpp"

extern char** environ;

namespace dt {
namespace {
std::string expand(const std::string& v, const std::map<std::string, std::string>& vars,
                   const std::map<std::string, std::string>& env) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '$' || i + 1 >= v.size()) {
      out += v[i];
      continue;
    }
    size_t start = i + 1, end;
    bool braced = v[start] == '{';
    if (braced) {
      end = v.find('}', start);
      if (end == std::string::npos) {
        out += v.substr(i);
        break;
      }
      ++start;
    } else {
      end = start;
      while (end < v.size() && (std::isalnum(static_cast<unsigned char>(v[end])) || v[end] == '_')) ++end;
    }
    std::string name = v.substr(start, end - start);
    if (auto it = vars.find(name); it != vars.end()) out += it->second;
    else if (auto e = env.find(name); e != env.end()) out += e->second;
    i = braced ? end : end - 1;
  }
  return out;
}
}  // namespace

std::map<std::string, std::string> parse_fstests_config(const std::string& text,
                                                        const std::map<std::string, std::string>& env) {
  std::map<std::string, std::string> vars;
  std::istringstream in(text);
  std::string raw;
  int sections_seen = 0;
  while (std::getline(in, raw)) {
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      if (++sections_seen > 1) break;  // only the first section applies
      continue;
    }
    if (line.rfind("export ", 0) == 0) line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq));
    std::string val = trim(line.substr(eq + 1));
    bool single = val.size() >= 2 && val.front() == '\'' && val.back() == '\'';
    if (val.size() >= 2 && (single || (val.front() == '"' && val.back() == '"'))) val = val.substr(1, val.size() - 2);
    else if (auto hash = val.find(" #"); hash != std::string::npos) val = trim(val.substr(0, hash));
    vars[key] = single ? val : expand(val, vars, env);
  }
  return vars;
}

std::optional<std::string> resolve_setting(const std::string& cli_value, const std::string& cli_flag,
                                           const std::string& key, std::string* source) {
  if (!cli_value.empty()) {
    *source = cli_flag;
    return cli_value;
  }
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  const char* host_options = std::getenv("HOST_OPTIONS");
  std::string cfg = host_options ? host_options : "local.config";
  std::error_code ec;
  // A config file named on purpose that is not there must not silently
  // turn into "no configuration".
  if (host_options && !std::filesystem::is_regular_file(cfg, ec))
    throw SetupError("HOST_OPTIONS names " + cfg + ", which is not a readable file; fix the path or unset HOST_OPTIONS");
  if (std::filesystem::is_regular_file(cfg, ec)) {
    auto vars = parse_fstests_config(read_file(cfg), env);
    if (auto it = vars.find(key); it != vars.end() && !it->second.empty()) {
      *source = cfg;
      return it->second;
    }
  }
  if (auto it = env.find(key); it != env.end() && !it->second.empty()) {
    *source = key + " environment variable";
    return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> resolve_test_dir(const std::string& cli_value, std::string* source) {
  return resolve_setting(cli_value, "--test-dir", "TEST_DIR", source);
}

}  // namespace dt
