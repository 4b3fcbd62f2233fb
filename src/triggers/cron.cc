#include "triggers/cron.h"

#include <charconv>
#include <ctime>
#include <vector>

namespace tamga {
namespace {

Result<int> Number(std::string_view s, const char* field) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return InvalidArgument(std::string("Invalid cron ") + field + " '" + std::string(s.substr(0, 20)) + "'");
  return v;
}

template <size_t N>
Status Field(std::string_view text, int lo, int hi, const char* name, std::bitset<N>* out, bool* restricted) {
  if (text == "*") {
    for (int v = lo; v <= hi; ++v) out->set(static_cast<size_t>(v));
    if (restricted) *restricted = false;
    return Status::Ok();
  }
  if (restricted) *restricted = true;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    int step = 1;
    size_t slash = item.find('/');
    if (slash != std::string_view::npos) {
      TAMGA_ASSIGN_OR_RETURN(step, Number(item.substr(slash + 1), name));
      if (step < 1 || step > hi) return InvalidArgument(std::string("Invalid cron ") + name + " step");
      item = item.substr(0, slash);
    }
    int a = lo, b = hi;
    if (item != "*") {
      size_t dash = item.find('-');
      TAMGA_ASSIGN_OR_RETURN(a, Number(item.substr(0, dash), name));
      b = a;
      if (dash != std::string_view::npos) {
        TAMGA_ASSIGN_OR_RETURN(b, Number(item.substr(dash + 1), name));
      } else if (slash != std::string_view::npos) {
        b = hi;  // "5/15": from 5 to the end, every 15
      }
    }
    if (a < lo || b > hi || a > b)
      return InvalidArgument(std::string("Invalid cron ") + name + ": " + std::to_string(a) + "-" +
                             std::to_string(b) + " is outside " + std::to_string(lo) + "-" +
                             std::to_string(hi));
    for (int v = a; v <= b; v += step) out->set(static_cast<size_t>(v));
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<CronSchedule> ParseCron(std::string_view expr) {
  if (expr.size() > 200) return InvalidArgument("cron expression longer than 200 characters");
  std::vector<std::string_view> f;
  size_t pos = 0;
  while (pos < expr.size()) {
    while (pos < expr.size() && expr[pos] == ' ') ++pos;
    if (pos >= expr.size()) break;
    size_t end = expr.find(' ', pos);
    f.push_back(expr.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
    pos = end == std::string_view::npos ? expr.size() : end;
  }
  if (f.size() != 5)
    return InvalidArgument("A cron schedule has five fields: minute hour day-of-month month day-of-week");
  CronSchedule s;
  TAMGA_RETURN_IF_ERROR(Field(f[0], 0, 59, "minute", &s.minutes, nullptr));
  TAMGA_RETURN_IF_ERROR(Field(f[1], 0, 23, "hour", &s.hours, nullptr));
  TAMGA_RETURN_IF_ERROR(Field(f[2], 1, 31, "day of month", &s.days, &s.days_restricted));
  TAMGA_RETURN_IF_ERROR(Field(f[3], 1, 12, "month", &s.months, nullptr));
  std::bitset<8> dow;
  TAMGA_RETURN_IF_ERROR(Field(f[4], 0, 7, "day of week", &dow, &s.weekdays_restricted));
  for (int d = 0; d < 7; ++d)
    s.weekdays[static_cast<size_t>(d)] = dow[static_cast<size_t>(d)] || (d == 0 && dow[7]);
  return s;
}

bool CronMatches(const CronSchedule& s, int64_t epoch_ms) {
  std::time_t t = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (!s.minutes[static_cast<size_t>(tm.tm_min)] || !s.hours[static_cast<size_t>(tm.tm_hour)] ||
      !s.months[static_cast<size_t>(tm.tm_mon + 1)])
    return false;
  bool dom = s.days[static_cast<size_t>(tm.tm_mday)];
  bool dow = s.weekdays[static_cast<size_t>(tm.tm_wday)];
  if (s.days_restricted && s.weekdays_restricted) return dom || dow;
  return dom && dow;
}

int64_t NextCronTime(const CronSchedule& s, int64_t after_ms) {
  // Minute by minute would be up to 2.6M steps for five years; skip whole days and hours that cannot match.
  int64_t t = (after_ms / 60000 + 1) * 60000;
  const int64_t limit = t + int64_t{5} * 366 * 86400 * 1000;
  while (t < limit) {
    std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    bool dom = s.days[static_cast<size_t>(tm.tm_mday)];
    bool dow = s.weekdays[static_cast<size_t>(tm.tm_wday)];
    bool day_ok = s.months[static_cast<size_t>(tm.tm_mon + 1)] &&
                  (s.days_restricted && s.weekdays_restricted ? (dom || dow) : (dom && dow));
    if (!day_ok) {
      t += (int64_t{86400} - (tm.tm_hour * 3600 + tm.tm_min * 60)) * 1000;  // the next midnight
      continue;
    }
    if (!s.hours[static_cast<size_t>(tm.tm_hour)]) {
      t += int64_t{60 - tm.tm_min} * 60000;  // the next hour
      continue;
    }
    if (s.minutes[static_cast<size_t>(tm.tm_min)]) return t;
    t += 60000;
  }
  return -1;
}

}  // namespace tamga
