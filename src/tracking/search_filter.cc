#include "tracking/search_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "core/utf8.h"

namespace tamga {
namespace {

enum class Tok { kIdent, kString, kNumber, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok type;
  std::string text;    // identifier/keyword/op/string contents
  std::string entity;  // for identifiers: part before the first '.', may be empty
  bool quoted_key = false;
  double number = 0;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status Bad(const std::string& msg) { return InvalidArgument(msg); }

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '/' ||
         c == '-';
}

// Reads a quoted run starting at s[i] (the opening quote). Doubled quotes escape themselves.
std::optional<std::string> ReadQuoted(std::string_view s, size_t& i) {
  char q = s[i++];
  std::string out;
  while (i < s.size()) {
    char c = s[i++];
    if (c == q) {
      if (i < s.size() && s[i] == q) {
        out.push_back(q);
        ++i;
        continue;
      }
      return out;
    }
    if (c == '\\' && i < s.size() && (s[i] == q || s[i] == '\\')) {
      out.push_back(s[i++]);
      continue;
    }
    out.push_back(c);
  }
  return std::nullopt;
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '(') {
      out.push_back({Tok::kLParen, "("});
      ++i;
      continue;
    }
    if (c == ')') {
      out.push_back({Tok::kRParen, ")"});
      ++i;
      continue;
    }
    if (c == ',') {
      out.push_back({Tok::kComma, ","});
      ++i;
      continue;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      std::string op(1, c);
      ++i;
      if (i < s.size() && (s[i] == '=' || (c == '<' && s[i] == '>'))) op.push_back(s[i++]);
      if (op == "!") return Bad("Invalid clause(s) in filter string: unexpected '!'");
      if (op == "==") op = "=";
      if (op == "<>") op = "!=";
      out.push_back({Tok::kOp, op});
      continue;
    }
    if (c == '\'' || c == '"') {
      auto str = ReadQuoted(s, i);
      if (!str) return Bad("Invalid filter string: unterminated quoted string");
      out.push_back({Tok::kString, *str});
      continue;
    }
    if (c == '`') {
      auto str = ReadQuoted(s, i);
      if (!str) return Bad("Invalid filter string: unterminated backtick-quoted key");
      Token t{Tok::kIdent, *str};
      t.quoted_key = true;
      out.push_back(std::move(t));
      continue;
    }
    bool numeric_start = std::isdigit(static_cast<unsigned char>(c)) ||
                         ((c == '-' || c == '+' || c == '.') && i + 1 < s.size() &&
                          (std::isdigit(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '.'));
    if (numeric_start) {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
        ++j;
      std::string text(s.substr(i, j - i));
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size()) return Bad("Invalid filter string: bad number '" + text + "'");
      Token t{Tok::kNumber, text};
      t.number = v;
      out.push_back(std::move(t));
      i = j;
      continue;
    }
    if (IsWordChar(c)) {
      size_t j = i;
      while (j < s.size() && IsWordChar(s[j])) ++j;
      std::string word(s.substr(i, j - i));
      i = j;
      // "entity." followed by a quoted key: metrics.`my metric`, tags."mlflow.runName"
      if (word.back() == '.' && i < s.size() && (s[i] == '`' || s[i] == '"')) {
        auto key = ReadQuoted(s, i);
        if (!key) return Bad("Invalid filter string: unterminated quoted key");
        Token t{Tok::kIdent, *key};
        t.entity = word.substr(0, word.size() - 1);
        t.quoted_key = true;
        out.push_back(std::move(t));
        continue;
      }
      Token t{Tok::kIdent, word};
      size_t dot = word.find('.');
      if (dot != std::string::npos) {
        t.entity = word.substr(0, dot);
        t.text = word.substr(dot + 1);
      }
      out.push_back(std::move(t));
      continue;
    }
    size_t len = std::max<size_t>(1, Utf8SequenceLength(s, i));  // the whole character, not its first byte
    return Bad("Invalid clause(s) in filter string: unexpected character '" + std::string(s.substr(i, len)) +
               "'");
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

bool IsKeyword(const Token& t, const char* kw) {
  return t.type == Tok::kIdent && t.entity.empty() && !t.quoted_key && Lower(t.text) == kw;
}

struct Identifier {
  FieldKind kind;
  std::string key;
};

Result<Identifier> ResolveIdentifier(const Token& t, SearchEntity entity) {
  std::string ent = Lower(t.entity);
  std::string key = t.text;
  if (key.empty()) return Bad("Invalid identifier: empty key");
  if (entity == SearchEntity::kRuns) {
    if (ent == "metric" || ent == "metrics") return Identifier{FieldKind::kMetric, key};
    if (ent == "param" || ent == "params" || ent == "parameter" || ent == "parameters")
      return Identifier{FieldKind::kParam, key};
    if (ent == "tag" || ent == "tags") return Identifier{FieldKind::kTag, key};
    if (ent == "dataset" || ent == "datasets") {
      if (key == "name" || key == "digest" || key == "context") return Identifier{FieldKind::kDataset, key};
      return Bad("Invalid dataset key '" + key + "'. Valid keys are: name, digest, context");
    }
    if (ent.empty() || ent == "attribute" || ent == "attributes" || ent == "attr" || ent == "run") {
      std::string k = key;
      if (k == "run name" || k == "Run name" || k == "Run Name") k = "run_name";
      if (k == "created" || k == "Created") k = "start_time";
      static const std::set<std::string> kKeys = {"run_id",       "run_name",   "status",  "user_id",
                                                  "artifact_uri", "start_time", "end_time"};
      if (!kKeys.count(k)) {
        return Bad("Invalid attribute key '" + key +
                   "' specified. Valid keys are '['run_id', 'run_name', 'status', 'user_id', 'artifact_uri', "
                   "'start_time', 'end_time', 'created']'");
      }
      return Identifier{FieldKind::kAttribute, k};
    }
    return Bad("Invalid entity type '" + t.entity +
               "'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']");
  }
  if (ent == "tag" || ent == "tags") return Identifier{FieldKind::kTag, key};
  if (entity == SearchEntity::kLoggedModels) {
    if (ent == "param" || ent == "params") return Identifier{FieldKind::kParam, key};
    if (ent == "metric" || ent == "metrics") {
      return Bad("Filtering logged models by metrics is not supported by this server");
    }
    if (!ent.empty() && ent != "attribute" && ent != "attributes" && ent != "attr") {
      return Bad("Invalid entity type '" + t.entity + "'. Valid values are ['params', 'tags', 'attributes']");
    }
    std::string k = key == "creation_time"       ? "creation_timestamp"
                    : key == "last_updated_time" ? "last_updated_timestamp"
                                                 : key;
    static const std::set<std::string> kKeys = {"name",
                                                "model_id",
                                                "model_type",
                                                "source_run_id",
                                                "status",
                                                "creation_timestamp",
                                                "last_updated_timestamp"};
    if (!kKeys.count(k)) {
      return Bad("Invalid attribute key '" + key +
                 "' specified. Valid keys are '['name', 'model_id', 'model_type', 'source_run_id', 'status', "
                 "'creation_timestamp', 'last_updated_timestamp']'");
    }
    return Identifier{FieldKind::kAttribute, k};
  }
  if (entity == SearchEntity::kRegisteredModels || entity == SearchEntity::kModelVersions) {
    if (!ent.empty() && ent != "attribute" && ent != "attributes" && ent != "attr") {
      return Bad("Invalid entity type '" + t.entity + "'. Valid values are ['tag', 'attribute']");
    }
    static const std::set<std::string> kModelKeys = {"name"};
    static const std::set<std::string> kVersionKeys = {"name", "run_id", "source_path", "version_number"};
    const auto& keys = entity == SearchEntity::kRegisteredModels ? kModelKeys : kVersionKeys;
    if (!keys.count(key)) {
      return Bad(
          entity == SearchEntity::kRegisteredModels
              ? "Invalid attribute key '" + key + "' specified. Valid keys are '['name']'"
              : "Invalid attribute key '" + key +
                    "' specified. Valid keys are '['name', 'run_id', 'source_path', 'version_number']'");
    }
    return Identifier{FieldKind::kAttribute, key};
  }
  if (ent.empty() || ent == "attribute" || ent == "attributes" || ent == "attr") {
    static const std::set<std::string> kKeys = {"name", "creation_time", "last_update_time", "experiment_id"};
    if (!kKeys.count(key)) {
      return Bad("Invalid attribute key '" + key +
                 "' specified. Valid keys are '['name', 'creation_time', 'last_update_time']'");
    }
    return Identifier{FieldKind::kAttribute, key};
  }
  return Bad("Invalid entity type '" + t.entity + "'. Valid values are ['tag', 'attribute']");
}

bool NumericAttribute(const std::string& key) {
  return key == "start_time" || key == "end_time" || key == "creation_time" || key == "last_update_time" ||
         key == "version_number" || key == "creation_timestamp" || key == "last_updated_timestamp";
}

}  // namespace

Result<std::vector<Comparison>> ParseSearchFilter(std::string_view filter, SearchEntity entity) {
  std::vector<Comparison> out;
  if (filter.size() > 100000) return Bad("Invalid filter string: longer than 100000 characters");
  bool blank = std::all_of(filter.begin(), filter.end(),
                           [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  if (blank) return out;
  TAMGA_ASSIGN_OR_RETURN(auto toks, Tokenize(filter));
  size_t i = 0;
  for (;;) {
    const Token& id = toks[i];
    if (id.type != Tok::kIdent || IsKeyword(id, "and")) {
      return Bad("Invalid clause(s) in filter string: expected an identifier near '" + id.text + "'");
    }
    TAMGA_ASSIGN_OR_RETURN(Identifier ident, ResolveIdentifier(id, entity));
    ++i;
    Comparison c;
    c.kind = ident.kind;
    c.key = ident.key;
    // Operator.
    const Token& op = toks[i];
    if (op.type == Tok::kOp) {
      static const std::pair<const char*, CompareOp> kOps[] = {{"=", CompareOp::kEq}, {"!=", CompareOp::kNe},
                                                               {">", CompareOp::kGt}, {">=", CompareOp::kGe},
                                                               {"<", CompareOp::kLt}, {"<=", CompareOp::kLe}};
      for (const auto& [text, cop] : kOps) {
        if (op.text == text) c.op = cop;
      }
      ++i;
    } else if (IsKeyword(op, "like")) {
      c.op = CompareOp::kLike;
      ++i;
    } else if (IsKeyword(op, "ilike")) {
      c.op = CompareOp::kILike;
      ++i;
    } else if (IsKeyword(op, "in")) {
      c.op = CompareOp::kIn;
      ++i;
    } else if (IsKeyword(op, "not") && IsKeyword(toks[i + 1], "in")) {
      c.op = CompareOp::kNotIn;
      i += 2;
    } else if (IsKeyword(op, "is")) {
      if (IsKeyword(toks[i + 1], "null")) {
        c.op = CompareOp::kIsNull;
        i += 2;
      } else if (IsKeyword(toks[i + 1], "not") && i + 2 < toks.size() && IsKeyword(toks[i + 2], "null")) {
        c.op = CompareOp::kIsNotNull;
        i += 3;
      } else {
        return Bad("Invalid clause(s) in filter string: expected NULL or NOT NULL after IS");
      }
    } else {
      return Bad("Invalid clause(s) in filter string: expected a comparison operator after '" + id.text +
                 "'");
    }

    // Which operators each field accepts.
    bool numeric_field =
        c.kind == FieldKind::kMetric || (c.kind == FieldKind::kAttribute && NumericAttribute(c.key));
    bool numeric_op = c.op == CompareOp::kEq || c.op == CompareOp::kNe || c.op == CompareOp::kGt ||
                      c.op == CompareOp::kGe || c.op == CompareOp::kLt || c.op == CompareOp::kLe;
    bool string_op = c.op == CompareOp::kEq || c.op == CompareOp::kNe || c.op == CompareOp::kLike ||
                     c.op == CompareOp::kILike;
    bool list_op = c.op == CompareOp::kIn || c.op == CompareOp::kNotIn;
    bool null_op = c.op == CompareOp::kIsNull || c.op == CompareOp::kIsNotNull;
    bool allowed;
    bool registry = entity == SearchEntity::kRegisteredModels || entity == SearchEntity::kModelVersions;
    if (numeric_field)
      allowed = numeric_op;
    else if (registry && c.kind == FieldKind::kTag)  // MLflow's registry stores: = != LIKE ILIKE only
      allowed = string_op;
    else if (c.kind == FieldKind::kParam || c.kind == FieldKind::kTag)
      allowed = string_op || null_op;
    else if (c.kind == FieldKind::kDataset)
      allowed = string_op || list_op;
    else if (c.kind == FieldKind::kAttribute && c.key == "run_id")
      allowed = string_op || list_op;
    else if (entity == SearchEntity::kLoggedModels && c.key == "status")
      allowed = c.op == CompareOp::kEq || c.op == CompareOp::kNe || list_op;
    else if (entity == SearchEntity::kLoggedModels && c.kind == FieldKind::kAttribute)
      allowed = string_op || list_op;
    else
      allowed = string_op;
    if (!allowed) {
      return Bad("Invalid comparator '" + op.text + "' not one of the allowed comparators for " + c.key);
    }

    // Value.
    if (null_op) {
      // no value
    } else if (list_op) {
      if (toks[i].type != Tok::kLParen) return Bad("While parsing a list in the query, expected a '('");
      ++i;
      std::vector<std::string> values;
      for (;;) {
        if (toks[i].type != Tok::kString)
          return Bad("While parsing a list in the query, expected string value");
        values.push_back(toks[i].text);
        ++i;
        if (toks[i].type == Tok::kComma) {
          ++i;
          continue;
        }
        if (toks[i].type == Tok::kRParen) {
          ++i;
          break;
        }
        return Bad("While parsing a list in the query, expected ',' or ')'");
      }
      if (values.size() > 1000) return Bad("Invalid filter string: an IN list has more than 1000 values");
      c.value = std::move(values);
    } else if (numeric_field) {
      const Token& v = toks[i];
      if (v.type != Tok::kNumber) {
        return Bad("Expected numeric value type for metric or numeric attribute '" + c.key + "'. Found '" +
                   v.text + "'");
      }
      c.value = v.number;
      ++i;
    } else {
      const Token& v = toks[i];
      if (v.type != Tok::kString) {
        return Bad("Value must be a quoted string for '" + c.key + "'. Found '" + v.text + "'");
      }
      c.value = v.text;
      ++i;
    }
    out.push_back(std::move(c));
    // Each comparison becomes a join or subquery in the store; SQLite allows 64 tables in one join.
    if (out.size() > kMaxFilterComparisons) {
      return Bad("Invalid filter string: more than " + std::to_string(kMaxFilterComparisons) +
                 " comparisons");
    }
    if (toks[i].type == Tok::kEnd) break;
    if (IsKeyword(toks[i], "and")) {
      ++i;
      continue;
    }
    return Bad("Invalid clause(s) in filter string: '" + toks[i].text + "' (only AND is supported)");
  }
  return out;
}

Result<std::vector<OrderKey>> ParseOrderBy(const std::vector<std::string>& clauses, SearchEntity entity) {
  std::vector<OrderKey> out;
  std::set<std::pair<int, std::string>> seen;
  for (const auto& clause : clauses) {
    if (clause.size() > 10000) return Bad("Invalid order_by clause: too long");
    TAMGA_ASSIGN_OR_RETURN(auto toks, Tokenize(clause));
    if (toks[0].type != Tok::kIdent) return Bad("Invalid order_by clause '" + clause + "'");
    OrderKey o;
    if (entity == SearchEntity::kRegisteredModels || entity == SearchEntity::kModelVersions) {
      std::string key =
          toks[0].entity.empty() || Lower(toks[0].entity).rfind("attr", 0) == 0 ? toks[0].text : "";
      if (key == "timestamp") key = "last_updated_timestamp";
      bool models = entity == SearchEntity::kRegisteredModels;
      static const std::set<std::string> kModelKeys = {"name", "creation_timestamp",
                                                       "last_updated_timestamp"};
      static const std::set<std::string> kVersionKeys = {"name", "version_number", "creation_timestamp",
                                                         "last_updated_timestamp"};
      if (!(models ? kModelKeys : kVersionKeys).count(key)) {
        return Bad("Invalid order by key '" + clause + "' specified. Valid keys are " +
                   (models ? "['name', 'creation_timestamp', 'last_updated_timestamp', 'timestamp']"
                           : "['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp']"));
      }
      o.kind = FieldKind::kAttribute;
      o.key = key;
    } else if (entity == SearchEntity::kExperiments) {
      std::string key =
          toks[0].entity.empty() || Lower(toks[0].entity).rfind("attr", 0) == 0 ? toks[0].text : "";
      static const std::set<std::string> kKeys = {"name", "experiment_id", "creation_time",
                                                  "last_update_time"};
      if (!kKeys.count(key)) {
        return Bad("Invalid order_by entity '" + clause +
                   "'. Valid keys are ['name', 'experiment_id', 'creation_time', 'last_update_time']");
      }
      o.kind = FieldKind::kAttribute;
      o.key = key;
    } else {
      TAMGA_ASSIGN_OR_RETURN(Identifier ident, ResolveIdentifier(toks[0], entity));
      if (ident.kind == FieldKind::kDataset) return Bad("Invalid order_by entity: datasets");
      o.kind = ident.kind;
      o.key = ident.key;
    }
    size_t i = 1;
    if (IsKeyword(toks[i], "asc")) {
      o.ascending = true;
      ++i;
    } else if (IsKeyword(toks[i], "desc")) {
      o.ascending = false;
      ++i;
    }
    if (toks[i].type != Tok::kEnd) return Bad("Invalid order_by clause '" + clause + "'");
    if (!seen.insert({static_cast<int>(o.kind), o.key}).second) {
      return Bad("`order_by` contains duplicate fields: " + clause);
    }
    out.push_back(std::move(o));
  }
  return out;
}

bool LikeMatch(std::string_view text, std::string_view pattern, bool ci) {
  auto eq = [ci](char a, char b) {
    if (!ci) return a == b;
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  // Iterative wildcard match with backtracking on the last '%'.
  size_t t = 0, p = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '_' || (pattern[p] != '%' && eq(pattern[p], text[t])))) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace tamga
