#pragma once
// Cron schedules for retraining triggers (docs/data.md, "Retraining triggers"): the five standard fields —
// minute (0-59), hour (0-23), day of month (1-31), month (1-12), day of week (0-7, 0 and 7 are Sunday) — each
// `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those; times in UTC. As in Vixie
// cron, when both day fields are restricted a day matching either one matches. Pure; thread-safe.
#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     // 1..31
  std::bitset<13> months;   // 1..12
  std::bitset<7> weekdays;  // 0..6, Sunday = 0
  bool days_restricted = false;
  bool weekdays_restricted = false;
};

// InvalidArgument naming the field for anything else.
Result<CronSchedule> ParseCron(std::string_view expr);
// The first minute strictly after `after_ms` (epoch milliseconds) the schedule matches, as epoch ms; at most
// ~5 years ahead (a schedule that never matches, e.g. "0 0 31 2 *", gives -1).
int64_t NextCronTime(const CronSchedule& s, int64_t after_ms);
// Whether the schedule matches the minute that contains `epoch_ms` (the brute-force definition).
bool CronMatches(const CronSchedule& s, int64_t epoch_ms);

}  // namespace tamga
