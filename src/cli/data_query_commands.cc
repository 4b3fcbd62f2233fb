// `tamga data ls|log|tag|diff`: what the server holds (docs/data.md).
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/data_session.h"
#include "data/client/progress.h"
#include "data/dataset_ref.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string When(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", std::gmtime(&t));
  return buf;
}

int RunLs(const DataOptions& o, const std::string& target, const std::string& prefix) {
  int code = 0;
  if (target.empty()) {
    json all = json::array();
    std::string token;
    do {
      std::string q = "/api/2.0/tamga/datasets/search?max_results=1000" +
                      (prefix.empty() ? "" : "&prefix=" + Escape(prefix)) +
                      (token.empty() ? "" : "&page_token=" + Escape(token));
      auto r = Call(o.c, "GET", q, nullptr, &code);
      if (!r) return code;
      for (auto& d : (*r)["datasets"]) all.push_back(d);
      token = r->value("next_page_token", "");
    } while (!token.empty());
    if (o.c.as_json) {
      std::cout << json{{"datasets", all}}.dump(2) << "\n";
      return 0;
    }
    std::printf("%-32s %8s  %-16s %s\n", "NAME", "LATEST", "UPDATED", "DESCRIPTION");
    for (const auto& d : all)
      std::printf(
          "%-32s %8s  %-16s %s\n", d.value("name", "").c_str(),
          d.value("latest_version", 0) ? ("v" + std::to_string(d.value("latest_version", 0))).c_str() : "-",
          When(d.value("last_updated_timestamp", int64_t{0})).c_str(), d.value("description", "").c_str());
    return 0;
  }
  auto ref = ParseDatasetRef(target);
  if (!ref.ok()) return DataFail(ref.status());
  json files = json::array();
  std::string token;
  int64_t version = 0;
  do {
    std::string q = "/api/2.0/tamga/datasets/versions/files?max_results=10000&name=" + Escape(ref->name) +
                    (ref->ref.empty() ? "" : "&version=" + Escape(ref->ref)) +
                    (prefix.empty() ? "" : "&prefix=" + Escape(prefix)) +
                    (token.empty() ? "" : "&page_token=" + Escape(token));
    auto r = Call(o.c, "GET", q, nullptr, &code);
    if (!r) return code;
    version = r->value("version", int64_t{0});
    for (auto& f : (*r)["files"]) files.push_back(f);
    token = r->value("next_page_token", "");
  } while (!token.empty());
  if (o.c.as_json) {
    std::cout << json{{"version", version}, {"files", files}}.dump(2) << "\n";
    return 0;
  }
  for (const auto& f : files)
    std::printf("%12s  %s  %s\n", HumanBytes(static_cast<double>(f.value("size", int64_t{0}))).c_str(),
                f.value("digest", "").substr(0, 12).c_str(), f.value("path", "").c_str());
  return 0;
}

int RunLog(const DataOptions& o, const std::string& name) {
  int code = 0;
  auto r = Call(o.c, "GET", "/api/2.0/tamga/datasets/versions/search?max_results=1000&name=" + Escape(name),
                nullptr, &code);
  if (!r) return code;
  if (o.c.as_json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  for (const auto& v : (*r)["versions"]) {
    std::string tags;
    for (const auto& t : v.value("tags", json::array()))
      if (t.is_string()) tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
    std::printf(
        "v%-5lld %s  %8lld files %10s  %s%s%s%s\n", static_cast<long long>(v.value("version", int64_t{0})),
        When(v.value("creation_timestamp", int64_t{0})).c_str(),
        static_cast<long long>(v.value("file_count", int64_t{0})),
        HumanBytes(static_cast<double>(v.value("total_size", int64_t{0}))).c_str(),
        v.value("manifest", "").substr(0, 12).c_str(), tags.empty() ? "" : ("  (" + tags + ")").c_str(),
        v.value("message", "").empty() ? "" : "  ", v.value("message", "").c_str());
  }
  return 0;
}

int RunTag(const DataOptions& o, const std::string& target, const std::string& tag, bool remove) {
  auto ref = ParseDatasetRef(target);
  if (!ref.ok()) return DataFail(ref.status());
  int code = 0;
  if (remove) {
    auto r =
        Call(o.c, "POST", "/api/2.0/tamga/datasets/tags/delete", {{"name", ref->name}, {"tag", tag}}, &code);
    if (!r) return code;
    if (!o.c.as_json)
      std::cout << "deleted tag " << ref->name << "@" << tag << "\n";
    else
      std::cout << "{}\n";
    return 0;
  }
  auto r =
      Call(o.c, "POST", "/api/2.0/tamga/datasets/tags/set",
           {{"name", ref->name}, {"tag", tag}, {"version", ref->ref.empty() ? "latest" : ref->ref}}, &code);
  if (!r) return code;
  if (o.c.as_json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  int64_t prev = r->value("previous_version", int64_t{0});
  std::cout << ref->name << "@" << tag << " -> v" << r->value("version", int64_t{0})
            << (prev ? " (was v" + std::to_string(prev) + ")" : "") << "\n";
  return 0;
}

int RunDiff(const DataOptions& o, const std::string& a, const std::string& b) {
  auto from = ParseDatasetRef(a);
  if (!from.ok()) return DataFail(from.status());
  std::string to = b;
  if (!b.empty() && b.find('@') != std::string::npos) {
    auto r = ParseDatasetRef(b);
    if (!r.ok()) return DataFail(r.status());
    if (r->name != from->name) return DataFail(InvalidArgument("diff compares two versions of one dataset"));
    to = r->ref;
  }
  int code = 0;
  auto r = Call(o.c, "GET",
                "/api/2.0/tamga/datasets/versions/diff?name=" + Escape(from->name) +
                    "&from=" + Escape(from->ref.empty() ? "latest" : from->ref) +
                    (to.empty() ? "" : "&to=" + Escape(to)),
                nullptr, &code);
  if (!r) return code;
  if (o.c.as_json) {
    std::cout << r->dump(2) << "\n";
    return 0;
  }
  std::cout << from->name << " v" << r->value("from_version", 0) << " -> v" << r->value("to_version", 0)
            << ": " << r->value("modified_count", 0) << " modified, " << r->value("added_count", 0)
            << " added, " << r->value("removed_count", 0) << " deleted, " << r->value("unchanged_count", 0)
            << " unchanged\n";
  for (const auto& m : (*r)["modified"]) std::cout << "  modified: " << m.value("path", "") << "\n";
  for (const auto& e : (*r)["added"]) std::cout << "  added:    " << e.value("path", "") << "\n";
  for (const auto& e : (*r)["removed"]) std::cout << "  deleted:  " << e.value("path", "") << "\n";
  return 0;
}

struct Args {
  DataOptions o;
  std::vector<std::string> paths;
  std::string name, out, prefix, tag, a, b;
  std::vector<std::string> tags;
  std::string message;
  bool force = false, remove = false;
};

}  // namespace

void AddDataQueryCommands(CLI::App* data, DataAction action) {
  auto ls_args = std::make_shared<Args>();
  auto* ls = data->add_subcommand("ls", "List datasets, or the files of NAME[@REF].");
  AddDataOptions(ls, &ls_args->o, true);
  ls->add_option("target", ls_args->a, "NAME[@VERSION|@TAG]");
  ls->add_option("--prefix", ls_args->prefix, "Only names (or paths) starting with this");
  ls->callback(
      [action, ls_args] { *action = [ls_args] { return RunLs(ls_args->o, ls_args->a, ls_args->prefix); }; });

  auto log_args = std::make_shared<Args>();
  auto* log = data->add_subcommand("log", "Versions of a dataset, newest first, with their tags.");
  AddDataOptions(log, &log_args->o, true);
  log->add_option("name", log_args->a, "Dataset")->required();
  log->callback([action, log_args] { *action = [log_args] { return RunLog(log_args->o, log_args->a); }; });

  auto tag_args = std::make_shared<Args>();
  auto* tag = data->add_subcommand("tag", "Point a tag at a version: tamga data tag NAME@VERSION TAG.");
  AddDataOptions(tag, &tag_args->o, true);
  tag->add_option("target", tag_args->a, "NAME[@VERSION|@TAG] (default: latest)")->required();
  tag->add_option("tag", tag_args->tag, "Tag name")->required();
  tag->add_flag("--delete", tag_args->remove, "Delete the tag instead");
  tag->callback([action, tag_args] {
    *action = [tag_args] { return RunTag(tag_args->o, tag_args->a, tag_args->tag, tag_args->remove); };
  });

  auto diff_args = std::make_shared<Args>();
  auto* diff = data->add_subcommand("diff", "Files added, deleted and modified between two versions.");
  AddDataOptions(diff, &diff_args->o, true);
  diff->add_option("from", diff_args->a, "NAME@VERSION")->required();
  diff->add_option("to", diff_args->b, "VERSION, TAG or NAME@REF (default: latest)");
  diff->callback([action, diff_args] {
    *action = [diff_args] { return RunDiff(diff_args->o, diff_args->a, diff_args->b); };
  });
}

}  // namespace tamga
