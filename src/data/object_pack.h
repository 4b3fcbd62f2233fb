#pragma once
// The framing of many dataset objects in one HTTP body (docs/data.md, "Wire"): uploads and batch downloads
// carry thousands of small files per request instead of one request each. A pack is a sequence of records
//
//   <sha256 hex> <size>\n<size bytes>
//
// with nothing before, between or after them. PackParser reads a pack pushed to it in arbitrary pieces
// (a streamed request or response body) and hands each object's bytes to a sink; it never buffers an
// object. Not thread-safe; one parser per body.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tamga {

// The record header for one object.
std::string PackRecordHeader(std::string_view digest, int64_t size);

struct PackLimits {
  int64_t max_object_bytes = int64_t{1} << 44;
  int64_t max_objects = 1'000'000;
};

class PackSink {
 public:
  virtual ~PackSink() = default;
  // An object starts; its bytes follow through Data, then End. An error stops the parse.
  virtual Status Begin(const std::string& digest, int64_t size) = 0;
  virtual Status Data(std::string_view bytes) = 0;
  virtual Status End() = 0;
};

class PackParser {
 public:
  PackParser(PackSink* sink, PackLimits limits = {}) : sink_(sink), limits_(limits) {}
  // Feeds the next piece. InvalidArgument on a malformed header or a limit; the sink's errors as they are.
  // After an error the parser refuses everything.
  Status Feed(std::string_view piece);
  // The body ended: InvalidArgument when it stopped inside a record ("truncated").
  Status Finish();
  int64_t objects() const { return objects_; }

 private:
  Status Fail(Status s);
  PackSink* sink_;
  PackLimits limits_;
  std::string header_;      // the header read so far
  int64_t remaining_ = -1;  // bytes of the current object still to come; -1 = reading a header
  int64_t objects_ = 0;
  Status error_ = Status::Ok();
};

}  // namespace tamga
