#include "cli/token_commands.h"

#include <ctime>
#include <iostream>

#include "cli/cli_http.h"

namespace tamga {
namespace {

using json = nlohmann::json;

std::string When(int64_t ms) {
  if (ms <= 0) return "never";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", std::gmtime(&t));
  return buf;
}

}  // namespace

TokenCommands AddTokenCommands(CLI::App& app) {
  TokenCommands cmds;
  cmds.action = std::make_shared<std::function<int()>>();
  auto action = cmds.action;
  auto* tokens =
      app.add_subcommand("tokens", "Access tokens: create, list, revoke (servers with --auth on).");
  tokens->require_subcommand(1);

  struct Create {
    Common c;
    std::string name, user, role = "user";
    std::vector<std::string> queues;
    int64_t days = 90;
  };
  auto cr = std::make_shared<Create>();
  auto* create = tokens->add_subcommand("create", "Make a token; it is shown once.");
  AddServerOptions(create, &cr->c);
  create->add_option("name", cr->name, "What the token is for (e.g. laptop, ci)")->required();
  create->add_option("--expires-in-days", cr->days, "0 = never (needs a password sign-in)")
      ->capture_default_str();
  create->add_option("--user", cr->user, "Make it for this user (admins)");
  create->add_option("--role", cr->role, "user, or agent (admins; with --queue)")
      ->check(CLI::IsMember({"user", "agent"}));
  create->add_option("--queue", cr->queues, "An agent token's queue (repeat)");
  create->callback([action, cr] {
    *action = [cr]() -> int {
      json body = {{"name", cr->name}, {"expires_in_days", cr->days}, {"role", cr->role}};
      if (!cr->user.empty()) body["username"] = cr->user;
      if (!cr->queues.empty()) body["queues"] = cr->queues;
      int code = 0;
      auto r = Call(cr->c, "POST", "/api/2.0/tamga/tokens", body, &code);
      if (!r) return code;
      if (cr->c.as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
      }
      const json& info = (*r)["token_info"];
      std::cout << r->value("token", "") << "\n";
      std::cerr << "token " << info.value("id", "") << " for " << info.value("username", "") << " ("
                << info.value("role", "") << "), expires " << When(info.value("expires_ms", int64_t{0}))
                << ". It is shown once: store it now (e.g. export TAMGA_TOKEN=...).\n";
      return 0;
    };
  });

  struct List {
    Common c;
    bool all = false;
  };
  auto ls = std::make_shared<List>();
  auto* list = tokens->add_subcommand("ls", "Your tokens (never their secrets).");
  AddServerOptions(list, &ls->c);
  list->add_flag("--all", ls->all, "Every user's tokens (admins)");
  list->callback([action, ls] {
    *action = [ls]() -> int {
      int code = 0;
      auto r = Call(ls->c, "GET", std::string("/api/2.0/tamga/tokens") + (ls->all ? "?all=true" : ""), json(),
                    &code);
      if (!r) return code;
      if (ls->c.as_json) {
        std::cout << r->dump(2) << "\n";
        return 0;
      }
      for (const auto& t : (*r)["tokens"]) {
        std::cout << t.value("id", "") << "  " << t.value("name", "") << "  user=" << t.value("username", "")
                  << "  role=" << t.value("role", "")
                  << "  created=" << When(t.value("created_ms", int64_t{0}))
                  << "  expires=" << When(t.value("expires_ms", int64_t{0})) << "  last_used="
                  << (t.value("last_used_ms", int64_t{0}) ? When(t.value("last_used_ms", int64_t{0})) : "-")
                  << "\n";
      }
      return 0;
    };
  });

  struct Revoke {
    Common c;
    std::string id;
  };
  auto rv = std::make_shared<Revoke>();
  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by its id (from tokens ls).");
  AddServerOptions(revoke, &rv->c);
  revoke->add_option("id", rv->id)->required();
  revoke->callback([action, rv] {
    *action = [rv]() -> int {
      int code = 0;
      auto r = Call(rv->c, "DELETE", "/api/2.0/tamga/tokens/" + Escape(rv->id), json(), &code);
      if (!r) return code;
      std::cout << (rv->c.as_json ? r->dump(2) : "token " + rv->id + " revoked") << "\n";
      return 0;
    };
  });
  return cmds;
}

int RunTokenCommands(const TokenCommands& commands) {
  if (!commands.action || !*commands.action) return -1;
  return (*commands.action)();
}

}  // namespace tamga
