#pragma once
// Process-wide structured logger: human-readable lines or JSON lines on stderr.
// Thread-safe. Configure once at start-up with Logger::Configure; secrets must never be passed in fields.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace tamga {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

using LogField = std::pair<std::string_view, std::string>;

class Logger {
 public:
  static void Configure(LogLevel level, LogFormat format);
  static bool Enabled(LogLevel level);
  static void Write(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
};

bool ParseLogLevel(std::string_view s, LogLevel* out);

#define TAMGA_LOG(level, ...)                                        \
  do {                                                               \
    if (::tamga::Logger::Enabled(::tamga::LogLevel::level))          \
      ::tamga::Logger::Write(::tamga::LogLevel::level, __VA_ARGS__); \
  } while (0)

}  // namespace tamga
