#include "data/object_pack.h"

#include <algorithm>
#include <charconv>

#include "data/digest.h"

namespace tamga {

std::string PackRecordHeader(std::string_view digest, int64_t size) {
  std::string h(digest);
  h += ' ';
  h += std::to_string(size);
  h += '\n';
  return h;
}

Status PackParser::Fail(Status s) {
  error_ = s;
  return s;
}

Status PackParser::Feed(std::string_view piece) {
  if (!error_.ok()) return error_;
  while (!piece.empty()) {
    if (remaining_ < 0) {
      size_t nl = piece.find('\n');
      size_t take = nl == std::string_view::npos ? piece.size() : nl;
      if (header_.size() + take > 64 + 1 + 19)
        return Fail(InvalidArgument("Object pack: record header too long (object " +
                                    std::to_string(objects_ + 1) + ")"));
      header_.append(piece.substr(0, take));
      if (nl == std::string_view::npos) return Status::Ok();
      piece.remove_prefix(nl + 1);
      if (objects_ >= limits_.max_objects) return Fail(InvalidArgument("Object pack: too many objects"));
      if (header_.size() < 66 || header_[64] != ' ')
        return Fail(InvalidArgument("Object pack: expected '<sha256> <size>' (object " +
                                    std::to_string(objects_ + 1) + ")"));
      std::string digest = header_.substr(0, 64);
      Status ds = CheckDigest(digest, "object digest");
      if (!ds.ok()) return Fail(ds);
      std::string_view num(header_.data() + 65, header_.size() - 65);
      int64_t size = -1;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), size);
      if (ec != std::errc() || p != num.data() + num.size() || size < 0 || (num.size() > 1 && num[0] == '0'))
        return Fail(InvalidArgument("Object pack: invalid size for object " + digest));
      if (size > limits_.max_object_bytes)
        return Fail(InvalidArgument("Object pack: object " + digest + " is larger than the limit"));
      header_.clear();
      ++objects_;
      Status bs = sink_->Begin(digest, size);
      if (!bs.ok()) return Fail(bs);
      remaining_ = size;
      if (remaining_ == 0) {
        remaining_ = -1;
        Status es = sink_->End();
        if (!es.ok()) return Fail(es);
      }
      continue;
    }
    size_t take = static_cast<size_t>(std::min<int64_t>(remaining_, static_cast<int64_t>(piece.size())));
    Status s = sink_->Data(piece.substr(0, take));
    if (!s.ok()) return Fail(s);
    piece.remove_prefix(take);
    remaining_ -= static_cast<int64_t>(take);
    if (remaining_ == 0) {
      remaining_ = -1;
      Status es = sink_->End();
      if (!es.ok()) return Fail(es);
    }
  }
  return Status::Ok();
}

Status PackParser::Finish() {
  if (!error_.ok()) return error_;
  if (remaining_ >= 0 || !header_.empty())
    return Fail(InvalidArgument("Object pack: the body ended inside object " +
                                std::to_string(remaining_ >= 0 ? objects_ : objects_ + 1) + " (truncated)"));
  return Status::Ok();
}

}  // namespace tamga
