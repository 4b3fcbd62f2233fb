#pragma once
// "Did you mean" for mistyped subcommands: CLI11 answers "tamga jbos" with "A subcommand is required";
// UnknownSubcommandMessage walks argv down the subcommand tree and, at the first word that names no
// subcommand where one is expected, says so and suggests the nearest names (edit distance <= 2).
#include <string>

#include <CLI/CLI.hpp>

namespace tamga {

// "" when argv names no unknown subcommand.
std::string UnknownSubcommandMessage(CLI::App& app, int argc, char** argv);

}  // namespace tamga
