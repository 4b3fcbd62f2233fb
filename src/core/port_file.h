#pragma once
// `--port-file`: the bound port written atomically (tmp + rename), so a reader (tests, scripts that start
// a server on port 0) never sees a partial number. No-op for an empty path.
#include <string>

namespace tamga {

void WritePortFile(const std::string& path, int port);

}  // namespace tamga
