#pragma once
// Checks pip requirement lines that Tamga passes to `pip install -r` on someone else's behalf (a rendered
// model image, an agent's venv): package specifiers and comments only. Refused: any option, whole-line
// (-r, -c, -e, --index-url) or per-requirement (--global-option, --config-settings), since they change where
// pip fetches from or what it runs; NUL and other control characters; and every character Python's
// str.splitlines() treats as a line break besides \n and \r (\v, \f, \x1c-\x1e, U+0085, U+2028, U+2029) and
// a byte-order mark, which pip would read as the start of a new (option) line. The text must be ASCII (pip
// strips Unicode spaces before it looks for an option). `--hash=...` after a specifier, which only narrows
// what pip accepts, is allowed. Pure; thread-safe.
#include <string>

#include "core/status.h"

namespace tamga {

Status CheckPipRequirements(const std::string& text);

}  // namespace tamga
