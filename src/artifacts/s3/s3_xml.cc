#include "artifacts/s3/s3_xml.h"

#include <charconv>

namespace tamga {
namespace {

class Parser {
 public:
  Parser(std::string_view doc, const XmlLimits& limits) : s_(doc), limits_(limits) {}

  Result<XmlElement> Document() {
    if (s_.size() > limits_.max_bytes) return InvalidArgument("XML document larger than the limit");
    TAMGA_RETURN_IF_ERROR(SkipMisc());
    if (i_ >= s_.size() || s_[i_] != '<') return InvalidArgument("XML: no root element");
    XmlElement root;
    TAMGA_RETURN_IF_ERROR(Element(&root, 1));
    TAMGA_RETURN_IF_ERROR(SkipMisc());
    if (i_ != s_.size()) return InvalidArgument("XML: content after the root element");
    return root;
  }

 private:
  bool Starts(std::string_view p) const { return s_.substr(i_, p.size()) == p; }

  Status SkipUntil(std::string_view end) {
    size_t at = s_.find(end, i_);
    if (at == std::string_view::npos) return InvalidArgument("XML: unterminated construct");
    i_ = at + end.size();
    return Status::Ok();
  }

  // Whitespace, the declaration, comments and processing instructions around the root.
  Status SkipMisc() {
    for (;;) {
      while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
      if (Starts("<?")) {
        TAMGA_RETURN_IF_ERROR(SkipUntil("?>"));
      } else if (Starts("<!--")) {
        TAMGA_RETURN_IF_ERROR(SkipUntil("-->"));
      } else if (Starts("<!")) {
        return InvalidArgument("XML: document type declarations are not accepted");
      } else {
        return Status::Ok();
      }
    }
  }

  static bool NameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
  }

  Result<std::string> Name() {
    size_t start = i_;
    while (i_ < s_.size() && NameChar(s_[i_])) ++i_;
    if (i_ == start || i_ - start > 256) return InvalidArgument("XML: bad element name");
    std::string_view n = s_.substr(start, i_ - start);
    size_t colon = n.rfind(':');
    return std::string(colon == std::string_view::npos ? n : n.substr(colon + 1));
  }

  Status AppendText(std::string_view raw, std::string* out) {
    for (size_t k = 0; k < raw.size(); ++k) {
      if (raw[k] != '&') {
        out->push_back(raw[k]);
        continue;
      }
      size_t semi = raw.find(';', k);
      if (semi == std::string_view::npos || semi - k > 12) return InvalidArgument("XML: bad entity");
      std::string_view e = raw.substr(k + 1, semi - k - 1);
      if (e == "lt") {
        out->push_back('<');
      } else if (e == "gt") {
        out->push_back('>');
      } else if (e == "amp") {
        out->push_back('&');
      } else if (e == "quot") {
        out->push_back('"');
      } else if (e == "apos") {
        out->push_back('\'');
      } else if (e.size() > 1 && e[0] == '#') {
        bool hex = e[1] == 'x' || e[1] == 'X';
        std::string_view digits = e.substr(hex ? 2 : 1);
        uint32_t cp = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
        if (ec != std::errc() || end != digits.data() + digits.size() || cp == 0 || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
          return InvalidArgument("XML: bad character reference");
        }
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
      } else {
        return InvalidArgument("XML: unknown entity");
      }
      k = semi;
    }
    return Status::Ok();
  }

  // At '<' of a start tag.
  Status Element(XmlElement* el, int depth) {
    if (depth > limits_.max_depth) return InvalidArgument("XML nested deeper than the limit");
    if (++elements_ > limits_.max_elements) return InvalidArgument("XML: more elements than the limit");
    ++i_;
    TAMGA_ASSIGN_OR_RETURN(el->name, Name());
    // Attributes: read past, honouring quotes.
    for (;;) {
      if (i_ >= s_.size()) return InvalidArgument("XML: unterminated start tag");
      char c = s_[i_];
      if (c == '"' || c == '\'') {
        size_t close = s_.find(c, i_ + 1);
        if (close == std::string_view::npos) return InvalidArgument("XML: unterminated attribute");
        i_ = close + 1;
      } else if (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '>') {
        i_ += 2;
        return Status::Ok();
      } else if (c == '>') {
        ++i_;
        break;
      } else if (c == '<') {
        return InvalidArgument("XML: '<' inside a start tag");
      } else {
        ++i_;
      }
    }
    for (;;) {
      size_t lt = s_.find('<', i_);
      if (lt == std::string_view::npos) return InvalidArgument("XML: unclosed element <" + el->name + ">");
      TAMGA_RETURN_IF_ERROR(AppendText(s_.substr(i_, lt - i_), &el->text));
      i_ = lt;
      if (Starts("</")) {
        i_ += 2;
        TAMGA_ASSIGN_OR_RETURN(std::string end, Name());
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
        if (i_ >= s_.size() || s_[i_] != '>' || end != el->name) {
          return InvalidArgument("XML: </" + end.substr(0, 64) + "> does not close <" +
                                 el->name.substr(0, 64) + ">");
        }
        ++i_;
        return Status::Ok();
      }
      if (Starts("<!--")) {
        TAMGA_RETURN_IF_ERROR(SkipUntil("-->"));
      } else if (Starts("<![CDATA[")) {
        size_t start = i_ + 9;
        TAMGA_RETURN_IF_ERROR(SkipUntil("]]>"));
        el->text.append(s_.substr(start, i_ - 3 - start));
      } else if (Starts("<?")) {
        TAMGA_RETURN_IF_ERROR(SkipUntil("?>"));
      } else if (Starts("<!")) {
        return InvalidArgument("XML: declarations are not accepted inside elements");
      } else {
        el->children.emplace_back();
        TAMGA_RETURN_IF_ERROR(Element(&el->children.back(), depth + 1));
      }
    }
  }

  std::string_view s_;
  XmlLimits limits_;
  size_t i_ = 0;
  size_t elements_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view n) const {
  const XmlElement* c = Child(n);
  return c ? c->text : std::string();
}

Result<XmlElement> ParseXml(std::string_view doc, const XmlLimits& limits) {
  return Parser(doc, limits).Document();
}

Result<S3ListPage> ParseListObjectsV2(std::string_view xml) {
  TAMGA_ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  if (root.name != "ListBucketResult")
    return InvalidArgument("S3: expected ListBucketResult, got " + root.name.substr(0, 64));
  S3ListPage page;
  for (const auto& c : root.children) {
    if (c.name == "Contents") {
      S3Object o;
      o.key = c.ChildText("Key");
      std::string size = c.ChildText("Size");
      auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
      if (ec != std::errc() || end != size.data() + size.size() || o.size < 0) {
        return InvalidArgument("S3: bad object size in a listing");
      }
      o.etag = c.ChildText("ETag");
      if (o.key.empty()) return InvalidArgument("S3: listing entry without a key");
      page.objects.push_back(std::move(o));
    } else if (c.name == "CommonPrefixes") {
      page.common_prefixes.push_back(c.ChildText("Prefix"));
    }
  }
  page.truncated = root.ChildText("IsTruncated") == "true";
  page.next_continuation_token = root.ChildText("NextContinuationToken");
  if (page.truncated && page.next_continuation_token.empty()) {
    return InvalidArgument("S3: a truncated listing without NextContinuationToken");
  }
  return page;
}

std::optional<std::pair<std::string, std::string>> ParseS3Error(std::string_view xml) {
  auto root = ParseXml(xml);
  if (!root.ok() || root->name != "Error") return std::nullopt;
  return std::make_pair(root->ChildText("Code"), root->ChildText("Message"));
}

Result<std::string> ParseInitiateMultipartUpload(std::string_view xml) {
  TAMGA_ASSIGN_OR_RETURN(XmlElement root, ParseXml(xml));
  std::string id = root.name == "InitiateMultipartUploadResult" ? root.ChildText("UploadId") : "";
  if (id.empty()) return InvalidArgument("S3: no UploadId in the InitiateMultipartUpload answer");
  return id;
}

}  // namespace tamga
