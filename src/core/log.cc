#include "core/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/json_writer.h"
#include "core/utf8.h"

namespace tamga {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::mutex g_mu;

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Text lines hold one record each: control characters are escaped (a user-chosen name cannot forge a second
// line) and ill-formed UTF-8 is replaced.
void AppendEscaped(std::string* line, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string clean = SanitizeUtf8(s);
  for (char ch : clean) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7f && c != '\\') {
      line->push_back(ch);
      continue;
    }
    switch (c) {
      case '\n':
        line->append("\\n");
        break;
      case '\r':
        line->append("\\r");
        break;
      case '\t':
        line->append("\\t");
        break;
      case '\\':
        line->append("\\\\");
        break;
      default:
        line->append("\\x");
        line->push_back(kHex[c >> 4]);
        line->push_back(kHex[c & 0xf]);
    }
  }
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
  return buf;
}
}  // namespace

void Logger::Configure(LogLevel level, LogFormat format) {
  g_level = static_cast<int>(level);
  g_format = static_cast<int>(format);
}

bool Logger::Enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void Logger::Write(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  std::string line;
  if (static_cast<LogFormat>(g_format.load()) == LogFormat::kJson) {
    JsonWriter w(&line);
    w.BeginObject();
    w.Field("ts", Timestamp());
    w.Field("level", LevelName(level));
    w.Field("msg", msg);
    for (const auto& [k, v] : fields) w.Field(k, v);
    w.EndObject();
  } else {
    line = Timestamp() + " " + LevelName(level) + " ";
    AppendEscaped(&line, msg);
    for (const auto& [k, v] : fields) {
      line += ' ';
      AppendEscaped(&line, k);
      line += '=';
      AppendEscaped(&line, v);
    }
  }
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  if (s == "debug")
    *out = LogLevel::kDebug;
  else if (s == "info")
    *out = LogLevel::kInfo;
  else if (s == "warn" || s == "warning")
    *out = LogLevel::kWarn;
  else if (s == "error")
    *out = LogLevel::kError;
  else
    return false;
  return true;
}

}  // namespace tamga
