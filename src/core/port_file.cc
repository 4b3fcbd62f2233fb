#include "core/port_file.h"

#include <filesystem>
#include <fstream>

namespace tamga {

void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::ofstream out(path + ".tmp");
  out << port << "\n";
  out.close();
  std::error_code ec;
  std::filesystem::rename(path + ".tmp", path, ec);
}

}  // namespace tamga
