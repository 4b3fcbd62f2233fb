#include "cli/suggest.h"

#include <algorithm>
#include <vector>

namespace tamga {
namespace {

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string UnknownSubcommandMessage(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path = "tamga";
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") break;
    if (!word.empty() && word[0] == '-') {
      // An option; skip its value too when it takes one and it was not given as --opt=value.
      if (word.find('=') == std::string::npos) {
        const CLI::Option* opt = current->get_option_no_throw(word);
        if (opt == nullptr && current->get_parent() != nullptr) opt = app.get_option_no_throw(word);
        if (opt != nullptr && opt->get_items_expected_min() > 0) ++i;
      }
      continue;
    }
    auto subs = current->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) return "";  // a leaf command: the rest are its arguments
    CLI::App* next = nullptr;
    for (CLI::App* s : subs) {
      if (s->check_name(word)) next = s;
    }
    if (next) {
      current = next;
      path += " " + word;
      continue;
    }
    if (current->get_require_subcommand_min() == 0) return "";  // may be a positional argument
    std::vector<std::string> close, all;
    for (CLI::App* s : subs) {
      all.push_back(s->get_name());
      if (EditDistance(word, s->get_name()) <= 2) close.push_back(s->get_name());
    }
    std::string msg = "error: unknown command '" + word + "' for '" + path + "'.";
    auto join = [](const std::vector<std::string>& v) {
      std::string out;
      for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
      return out;
    };
    if (!close.empty()) msg += " Did you mean: " + join(close) + "?";
    msg += "\nCommands of '" + path + "': " + join(all) + ". Run '" + path + " --help' for more.";
    return msg;
  }
  return "";
}

}  // namespace tamga
