#include <nlohmann/json.hpp>

#include <cctype>
#include <cstring>
#include <set>
#include <tuple>

#include "core/json_parse.h"
#include "core/utf8.h"
#include "data/dataset_ref.h"
#include "data/manifest.h"
#include "jobs/job_internal.h"
#include "jobs/job_types.h"

namespace tamga {
namespace {

constexpr const char* kStates[] = {"queued", "leased", "running", "succeeded", "failed", "aborted", "lost"};

}  // namespace

const char* JobStateName(JobState s) { return kStates[static_cast<int>(s)]; }

std::optional<JobState> ParseJobState(const std::string& s) {
  for (int i = 0; i < 7; ++i) {
    if (s == kStates[i]) return static_cast<JobState>(i);
  }
  return std::nullopt;
}

bool IsTerminal(JobState s) {
  return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kAborted ||
         s == JobState::kLost;
}

// "<number>[.<fraction>] [K|M|G|T][i][B]", by hand: no std::regex (it recurses per character) and no stod (it
// throws on overflow). Digits beyond what a double holds exactly do not matter for a size.
Result<int64_t> ParseByteSize(const std::string& text) {
  auto bad = [&] {
    return InvalidArgument("invalid size '" + std::string(Utf8Prefix(text, 40)) +
                           "' (use e.g. 8GiB, 512MiB)");
  };
  if (text.size() > 64) return bad();
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  };
  skip_space();
  double v = 0;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
    v = v * 10 + (text[i++] - '0'), ++digits;
  if (digits == 0) return bad();
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    size_t frac = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
      v += (text[i++] - '0') * scale, scale /= 10, ++frac;
    if (frac == 0) return bad();
  }
  skip_space();
  double mult = 1;
  if (i < text.size() && std::strchr("kmgtKMGT", text[i]) != nullptr) {
    int power = static_cast<int>(std::string("kmgt").find(static_cast<char>(std::tolower(text[i])))) + 1;
    ++i;
    double base = 1000.0;
    if (i < text.size() && (text[i] == 'i' || text[i] == 'I')) base = 1024.0, ++i;
    for (int p = 0; p < power; ++p) mult *= base;
  }
  if (i < text.size() && (text[i] == 'b' || text[i] == 'B')) ++i;
  skip_space();
  if (i != text.size()) return bad();
  double bytes = v * mult;
  if (!(bytes <= 9.0e18))
    return InvalidArgument("size '" + std::string(Utf8Prefix(text, 40)) + "' is too large");
  return static_cast<int64_t>(bytes);
}

// A commit (4-40 hex digits) or a ref name (starts alphanumeric; letters, digits, '.', '_', '/', '-').
bool IsCommitOrRef(const std::string& s) {
  if (s.empty() || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/-") ==
         std::string::npos;
}

namespace {

Result<JobSpec> SpecFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("job spec must be a JSON object");
  static const std::set<std::string> kKnown = {
      "queue",      "priority",  "command",   "env",         "working_dir", "git_repo",
      "git_commit", "resources", "timeout_s", "max_retries", "tags",        "experiment_id",
      "run_name",   "code",      "tier",      "team",        "data"};
  for (const auto& [k, v] : j.items()) {
    if (!kKnown.count(k))
      return InvalidArgument("unknown job field '" + std::string(Utf8Prefix(k, 64)) + "'");
  }
  JobSpec s;
  auto str = [&](const nlohmann::json& obj, const char* key, std::string* out, size_t max) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    if (!obj[key].is_string()) return InvalidArgument(std::string("field '") + key + "' must be a string");
    *out = obj[key].get<std::string>();
    if (out->size() > max)
      return InvalidArgument(std::string("field '") + key + "' is longer than " + std::to_string(max));
    return Status::Ok();
  };
  auto integer = [&](const nlohmann::json& obj, const char* key, int64_t lo, int64_t hi,
                     int64_t* out) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    const auto& x = obj[key];
    bool in_range = false;
    if (x.is_number_unsigned()) {  // checked first: nlohmann counts unsigned as integer too
      uint64_t u = x.get<uint64_t>();
      in_range = hi >= 0 && u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo;
    } else if (x.is_number_integer()) {
      int64_t n = x.get<int64_t>();
      in_range = n >= lo && n <= hi;
    }
    if (!in_range) {
      return InvalidArgument(std::string("field '") + key + "' must be an integer in [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "]");
    }
    *out = obj[key].get<int64_t>();
    return Status::Ok();
  };
  auto size = [&](const nlohmann::json& obj, const char* key, int64_t* out) -> Status {
    if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
    if (obj[key].is_number_unsigned() && obj[key].get<uint64_t>() <= uint64_t{9000000000000000000}) {
      *out = static_cast<int64_t>(obj[key].get<uint64_t>());
      return Status::Ok();
    }
    if (!obj[key].is_string())
      return InvalidArgument(std::string("field '") + key + "' must be a size (bytes or \"8GiB\")");
    auto v = ParseByteSize(obj[key].get<std::string>());
    if (!v.ok()) return InvalidArgument(std::string("field '") + key + "': " + v.status().message());
    *out = *v;
    return Status::Ok();
  };
  auto string_map = [&](const char* key, std::map<std::string, std::string>* out) -> Status {
    if (!j.contains(key) || j[key].is_null()) return Status::Ok();
    if (!j[key].is_object())
      return InvalidArgument(std::string("field '") + key + "' must be an object of strings");
    if (j[key].size() > 1000) return InvalidArgument(std::string("field '") + key + "' has too many entries");
    for (const auto& [k, v] : j[key].items()) {
      if (!v.is_string())
        return InvalidArgument(std::string("field '") + key + "." + std::string(Utf8Prefix(k, 64)) +
                               "' must be a string");
      // Environment names are portable shell names: no '=', NUL, spaces or look-alike Unicode letters.
      if (std::string(key) == "env" &&
          (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_') ||
           k.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
               std::string::npos)) {
        return InvalidArgument(
            "field 'env': '" + std::string(Utf8Prefix(k, 64)) +
            "' is not a variable name (letters, digits and '_', not starting with a digit)");
      }
      if (k.empty() || k.size() > 250 || v.get<std::string>().size() > 8000) {
        return InvalidArgument(std::string("field '") + key + "' has an empty or oversize entry");
      }
      (*out)[k] = v.get<std::string>();
    }
    return Status::Ok();
  };
  TAMGA_RETURN_IF_ERROR(str(j, "queue", &s.queue, 64));
  if (s.queue.empty()) return InvalidArgument("field 'queue' is required");
  if (!std::isalnum(static_cast<unsigned char>(s.queue[0])) ||
      s.queue.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return InvalidArgument("field 'queue': use letters, digits, '.', '_' and '-'");
  }
  int64_t v = 0;
  TAMGA_RETURN_IF_ERROR(integer(j, "priority", -1000000, 1000000, &v));
  s.priority = static_cast<int>(v);
  if (!j.contains("command") || !j["command"].is_array() || j["command"].empty()) {
    return InvalidArgument("field 'command' must be a non-empty list of strings");
  }
  if (j["command"].size() > 10000) return InvalidArgument("field 'command' has too many arguments");
  size_t total = 0;
  for (const auto& a : j["command"]) {
    if (!a.is_string()) return InvalidArgument("field 'command' must be a non-empty list of strings");
    s.command.push_back(a.get<std::string>());
    total += s.command.back().size();
    if (s.command.back().find('\0') != std::string::npos)
      return InvalidArgument("field 'command' contains a NUL byte");
  }
  if (s.command[0].empty()) return InvalidArgument("field 'command': the program name is empty");
  if (total > 1 << 20) return InvalidArgument("field 'command' is larger than 1 MiB");
  TAMGA_RETURN_IF_ERROR(string_map("env", &s.env));
  TAMGA_RETURN_IF_ERROR(string_map("tags", &s.tags));
  TAMGA_RETURN_IF_ERROR(str(j, "working_dir", &s.working_dir, 4096));
  TAMGA_RETURN_IF_ERROR(str(j, "git_repo", &s.git_repo, 4096));
  TAMGA_RETURN_IF_ERROR(str(j, "git_commit", &s.git_commit, 64));
  if (!s.git_commit.empty() && s.git_repo.empty())
    return InvalidArgument("field 'git_commit' needs 'git_repo'");
  if (!s.git_commit.empty() && !IsCommitOrRef(s.git_commit))
    return InvalidArgument("field 'git_commit' is not a commit or ref");
  if (!s.git_repo.empty() && s.git_repo[0] == '-')
    return InvalidArgument("field 'git_repo' must not start with '-'");
  for (char ch : s.git_repo) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f)
      return InvalidArgument("field 'git_repo' contains a control character");
  }
  if (!s.working_dir.empty() && !s.git_repo.empty())
    return InvalidArgument(
        "fields 'working_dir' and 'git_repo' exclude each other: a repository is checked out "
        "into a fresh scratch folder");
  if (j.contains("code") && !j["code"].is_null()) {
    const auto& c = j["code"];
    if (!c.is_object()) return InvalidArgument("field 'code' must be an object");
    for (const auto& [k, v] : c.items()) {
      if (k != "patch_sha256" && k != "archive_sha256" && k != "subdir" && k != "requirements_sha256")
        return InvalidArgument("unknown field 'code." + std::string(Utf8Prefix(k, 64)) + "'");
    }
    for (auto [key, out, max] :
         {std::tuple<const char*, std::string*, size_t>{"patch_sha256", &s.code.patch_sha256, 64},
          {"archive_sha256", &s.code.archive_sha256, 64},
          {"requirements_sha256", &s.code.requirements_sha256, 64},
          {"subdir", &s.code.subdir, 1024}}) {
      Status st = str(c, key, out, max);
      if (!st.ok()) {
        std::string m = st.message();
        size_t at = m.find("field '");
        if (at != std::string::npos) m.replace(at, 7, "field 'code.");
        return InvalidArgument(m);
      }
    }
    for (const std::string* h : {&s.code.patch_sha256, &s.code.archive_sha256, &s.code.requirements_sha256}) {
      if (!h->empty() && (h->size() != 64 || h->find_first_not_of("0123456789abcdef") != std::string::npos))
        return InvalidArgument("fields 'code.*_sha256' must be 64 lower-case hex digits");
    }
    const std::string& sub = s.code.subdir;
    if (!sub.empty() && (sub[0] == '/' || sub.find('\0') != std::string::npos || sub == ".." ||
                         sub.rfind("../", 0) == 0 || sub.find("/../") != std::string::npos ||
                         (sub.size() >= 3 && sub.compare(sub.size() - 3, 3, "/..") == 0)))
      return InvalidArgument("field 'code.subdir' must be a relative path inside the tree");
    if (!s.code.patch_sha256.empty() && s.git_commit.empty() && s.code.archive_sha256.empty())
      return InvalidArgument(
          "field 'code.patch_sha256' needs 'git_repo' and 'git_commit', or 'code.archive_sha256'");
    if (!s.code.archive_sha256.empty() && !s.git_repo.empty())
      return InvalidArgument("fields 'code.archive_sha256' and 'git_repo' exclude each other");
    if (!s.code.empty() && !s.working_dir.empty())
      return InvalidArgument(
          "field 'code' ships a tree into a fresh scratch folder: it excludes 'working_dir'");
  }
  TAMGA_RETURN_IF_ERROR(integer(j, "timeout_s", 0, 365LL * 86400, &s.timeout_s));
  v = s.max_retries;
  TAMGA_RETURN_IF_ERROR(integer(j, "max_retries", 0, 100, &v));
  s.max_retries = static_cast<int>(v);
  TAMGA_RETURN_IF_ERROR(str(j, "experiment_id", &s.experiment_id, 64));
  TAMGA_RETURN_IF_ERROR(str(j, "run_name", &s.run_name, 250));
  TAMGA_RETURN_IF_ERROR(str(j, "tier", &s.tier, 64));
  TAMGA_RETURN_IF_ERROR(str(j, "team", &s.team, 256));
  if (j.contains("data") && !j["data"].is_null()) {
    if (!j["data"].is_array() || j["data"].size() > 32)
      return InvalidArgument("field 'data' must be a list of at most 32 datasets");
    std::set<std::string> paths;
    for (const auto& d : j["data"]) {
      JobData jd;
      if (d.is_string()) {
        jd.ref = d.get<std::string>();
      } else if (d.is_object() && d.contains("ref") && d["ref"].is_string()) {
        for (const auto& [k, x] : d.items()) {
          if (k != "ref" && k != "path")
            return InvalidArgument("unknown field 'data." + std::string(Utf8Prefix(k, 64)) + "'");
        }
        jd.ref = d["ref"].get<std::string>();
        TAMGA_RETURN_IF_ERROR(str(d, "path", &jd.path, 1024));
      } else {
        return InvalidArgument("each 'data' entry is \"NAME@REF\" or {\"ref\", \"path\"}");
      }
      auto ref = ParseDatasetRef(jd.ref);
      if (!ref.ok()) return InvalidArgument("field 'data': " + ref.status().message());
      if (jd.path.empty()) jd.path = "data/" + ref->name;
      Status p = ValidateDataPath(jd.path);
      if (!p.ok()) return InvalidArgument("field 'data.path': " + p.message());
      if (!paths.insert(jd.path).second) return InvalidArgument("two 'data' entries use the path " + jd.path);
      s.data.push_back(std::move(jd));
    }
  }
  if (j.contains("resources") && !j["resources"].is_null()) {
    s.resources_given = true;
    const auto& r = j["resources"];
    if (!r.is_object()) return InvalidArgument("field 'resources' must be an object");
    for (const auto& [k, x] : r.items()) {
      if (k != "cpus" && k != "memory" && k != "gpus" && k != "gpu_memory") {
        return InvalidArgument("unknown field 'resources." + std::string(Utf8Prefix(k, 64)) + "'");
      }
    }
    v = s.resources.cpus;
    TAMGA_RETURN_IF_ERROR(integer(r, "cpus", 0, 4096, &v));
    s.resources.cpus = static_cast<int>(v);
    v = 0;
    TAMGA_RETURN_IF_ERROR(integer(r, "gpus", 0, 64, &v));
    s.resources.gpus = static_cast<int>(v);
    TAMGA_RETURN_IF_ERROR(size(r, "memory", &s.resources.memory_bytes));
    TAMGA_RETURN_IF_ERROR(size(r, "gpu_memory", &s.resources.gpu_memory_bytes));
    if (s.resources.gpu_memory_bytes > 0 && s.resources.gpus == 0) {
      return InvalidArgument("field 'resources.gpu_memory' needs 'resources.gpus' > 0");
    }
  }
  return s;
}

}  // namespace

Result<JobSpec> ParseJobSpec(const std::string& text) {
  auto j = ParseJson(text);
  if (!j.ok()) return InvalidArgument("job spec is not valid JSON: " + j.status().message());
  return SpecFromJson(*j);
}

Result<std::vector<JobSpec>> ParseJobSpecBatch(const std::string& text) {
  auto parsed = ParseJson(text);
  if (!parsed.ok()) return InvalidArgument("batch is not valid JSON: " + parsed.status().message());
  const nlohmann::json& j = *parsed;
  if (!j.is_object()) return InvalidArgument("batch must be a JSON object {\"jobs\": [job spec, ...]}");
  for (const auto& [k, v] : j.items()) {
    if (k != "jobs") return InvalidArgument("unknown batch field '" + std::string(Utf8Prefix(k, 64)) + "'");
  }
  if (!j.contains("jobs") || !j["jobs"].is_array() || j["jobs"].empty()) {
    return InvalidArgument("field 'jobs' must be a non-empty list of job specs");
  }
  if (j["jobs"].size() > kMaxJobBatch) {
    return InvalidArgument("field 'jobs' has " + std::to_string(j["jobs"].size()) + " specs; at most " +
                           std::to_string(kMaxJobBatch) + " per request");
  }
  std::vector<JobSpec> out;
  out.reserve(j["jobs"].size());
  for (size_t i = 0; i < j["jobs"].size(); ++i) {
    auto spec = SpecFromJson(j["jobs"][i]);
    if (!spec.ok())
      return Status(spec.status().code(), "jobs[" + std::to_string(i) + "]: " + spec.status().message());
    out.push_back(std::move(*spec));
  }
  return out;
}

nlohmann::ordered_json jobs_internal::JobSpecObject(const JobSpec& s) {
  nlohmann::ordered_json j;
  j["queue"] = s.queue;
  j["priority"] = s.priority;
  j["command"] = s.command;
  j["env"] = s.env;
  j["working_dir"] = s.working_dir;
  j["git_repo"] = s.git_repo;
  j["git_commit"] = s.git_commit;
  if (!s.code.empty()) {
    j["code"] = {{"patch_sha256", s.code.patch_sha256},
                 {"archive_sha256", s.code.archive_sha256},
                 {"subdir", s.code.subdir},
                 {"requirements_sha256", s.code.requirements_sha256}};
  }
  j["resources"] = {{"cpus", s.resources.cpus},
                    {"memory", s.resources.memory_bytes},
                    {"gpus", s.resources.gpus},
                    {"gpu_memory", s.resources.gpu_memory_bytes}};
  j["timeout_s"] = s.timeout_s;
  j["max_retries"] = s.max_retries;
  j["tags"] = s.tags;
  j["experiment_id"] = s.experiment_id;
  j["run_name"] = s.run_name;
  if (!s.tier.empty()) j["tier"] = s.tier;
  if (!s.team.empty()) j["team"] = s.team;
  if (!s.data.empty()) {
    j["data"] = nlohmann::json::array();
    for (const auto& d : s.data) j["data"].push_back({{"ref", d.ref}, {"path", d.path}});
  }
  return j;
}

std::string JobSpecJson(const JobSpec& s) { return DumpJson(jobs_internal::JobSpecObject(s)); }

}  // namespace tamga
