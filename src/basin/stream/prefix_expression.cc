#include "basin/stream/prefix_expression.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace basin::stream {
namespace {

using nlohmann::json;

// A value longer than this is more likely a mistake (a whole payload used as a key) than
// a partition; keys stay well under S3's 1,024-byte limit.
constexpr size_t kMaxValueBytes = 256;
constexpr size_t kMaxFolderBytes = 255;     // NAME_MAX on Linux file systems
constexpr size_t kMaxPartitionBytes = 768;  // of S3's 1,024: room for prefix and name

bool IsControl(char c) {
  auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string At(size_t position) {
  return " at position " + std::to_string(position);
}

Status Invalid(const std::string& what, size_t position) {
  return Status::InvalidArgument("prefix expression: " + what + At(position));
}

std::string JoinPath(const std::vector<std::string>& path) {
  std::string joined;
  for (const std::string& name : path)
    joined += (joined.empty() ? "" : ".") + name;
  return joined;
}

std::string TwoDigits(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "%02u", value % 100);
  return text;
}

}  // namespace

// Builds a PrefixExpression in one pass over the text, checking each folder as it ends
// and collecting the partition keys of "key=..." folders.
class PrefixExpressionParser {
 public:
  explicit PrefixExpressionParser(std::string_view text) : text_(text) {}

  Result<PrefixExpression> Parse() {
    PrefixExpression expression;
    expression.text_ = std::string(text_);
    size_t i = 0;
    while (i < text_.size()) {
      if (text_.compare(i, 2, "!{") != 0) {
        BASIN_RETURN_IF_ERROR(AddLiteral(expression, text_[i], i));
        ++i;
        continue;
      }
      size_t close = text_.find('}', i + 2);
      if (close == std::string_view::npos)
        return Invalid("'!{' is not closed by '}'", i);
      BASIN_RETURN_IF_ERROR(AddPlaceholder(expression, text_.substr(i + 2, close - i - 2), i));
      i = close + 1;
    }
    BASIN_RETURN_IF_ERROR(CheckFolderName(text_.size()));
    expression.partition_keys_ = std::move(keys_);
    return expression;
  }

 private:
  using Part = PrefixExpression::Part;
  using PartKind = PrefixExpression::PartKind;
  using TimeField = PrefixExpression::TimeField;
  using TimeToken = PrefixExpression::TimeToken;

  // What the folder being read is made of: literal text, timestamp formats (as written)
  // and fields, for the partition key of a "key=value" folder.
  struct Piece {
    PartKind kind;
    std::string text;
  };

  // `inner` is what is between "!{" and "}"; `start` is the position of the '!'.
  Status AddPlaceholder(PrefixExpression& expression, std::string_view inner, size_t start) {
    size_t colon = inner.find(':');
    if (colon == std::string_view::npos) {
      return Invalid(
          "expected !{timestamp:FORMAT}, !{field:NAME} or !{partitionKeyFromQuery:NAME}, got '!{" +
              std::string(inner) + "}'",
          start);
    }
    std::string_view kind = inner.substr(0, colon);
    std::string_view value = inner.substr(colon + 1);
    size_t value_start = start + 2 + colon + 1;
    if (value.empty())
      return Invalid("'!{" + std::string(inner) + "}' needs a value after ':'", value_start);
    Part part;
    if (kind == "timestamp") {
      part.kind = PartKind::kTimestamp;
      BASIN_ASSIGN_OR_RETURN(part.tokens, ParseTimeFormat(value, value_start));
      for (const TimeToken& token : part.tokens) {
        if (token.field != TimeField::kLiteral) {
          folder_shape_.push_back('\x01');
          AddToFolder(PartKind::kTimestamp, TimeFieldText(token.field));
          continue;
        }
        for (size_t k = 0; k < token.literal.size(); ++k) {
          char c = token.literal[k];
          if (c == '/') {
            BASIN_RETURN_IF_ERROR(EndFolder(value_start));
          } else {
            folder_shape_.push_back(c);
            AddToFolder(PartKind::kTimestamp, std::string(1, c));
          }
        }
      }
    } else if (kind == "field" || kind == "partitionKeyFromQuery") {
      part.kind = PartKind::kField;
      if (kind == "partitionKeyFromQuery") {
        part.path = {std::string(value)};
      } else {
        size_t begin = 0;
        while (true) {
          size_t dot = value.find('.', begin);
          std::string_view name = value.substr(
              begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin);
          if (name.empty())
            return Invalid("field path '" + std::string(value) + "' has an empty name",
                           value_start);
          part.path.emplace_back(name);
          if (dot == std::string_view::npos)
            break;
          begin = dot + 1;
        }
      }
      folder_shape_.push_back('\x01');
      pieces_.push_back({PartKind::kField, JoinPath(part.path)});
    } else {
      return Invalid("unknown '!{" + std::string(kind) +
                         ":...}' (expected timestamp, field or partitionKeyFromQuery)",
                     start);
    }
    expression.parts_.push_back(std::move(part));
    return Status::OK();
  }

  Status AddLiteral(PrefixExpression& expression, char c, size_t position) {
    if (IsControl(c))
      return Invalid("control character", position);
    if (expression.parts_.empty() || expression.parts_.back().kind != PartKind::kLiteral) {
      expression.parts_.push_back(Part{.kind = PartKind::kLiteral});
    }
    expression.parts_.back().literal.push_back(c);
    if (c == '/')
      return EndFolder(position);
    folder_shape_.push_back(c);
    AddToFolder(PartKind::kLiteral, std::string(1, c));
    return Status::OK();
  }

  static Result<std::vector<TimeToken>> ParseTimeFormat(std::string_view format, size_t start) {
    std::vector<TimeToken> tokens;
    size_t i = 0;
    while (i < format.size()) {
      char c = format[i];
      if (c == '\'')
        return Invalid("quoted text is not supported in a timestamp format", start + i);
      if (IsControl(c))
        return Invalid("control character", start + i);
      if (!IsAsciiLetter(c)) {
        if (tokens.empty() || tokens.back().field != TimeField::kLiteral)
          tokens.push_back({});
        tokens.back().literal.push_back(c);
        ++i;
        continue;
      }
      size_t run = format.find_first_not_of(c, i);
      std::string_view letters =
          format.substr(i, run == std::string_view::npos ? std::string_view::npos : run - i);
      TimeField field = TimeField::kLiteral;
      for (TimeField candidate : {TimeField::kYear, TimeField::kMonth, TimeField::kDay,
                                  TimeField::kHour, TimeField::kMinute, TimeField::kSecond}) {
        if (letters == TimeFieldText(candidate))
          field = candidate;
      }
      if (field == TimeField::kLiteral) {
        return Invalid("unknown date-time pattern '" + std::string(letters) +
                           "' in a timestamp format (use yyyy, MM, dd, HH, mm, ss)",
                       start + i);
      }
      tokens.push_back({.field = field});
      i += letters.size();
    }
    return tokens;
  }

  static std::string TimeFieldText(TimeField field) {
    switch (field) {
      case TimeField::kYear:
        return "yyyy";
      case TimeField::kMonth:
        return "MM";
      case TimeField::kDay:
        return "dd";
      case TimeField::kHour:
        return "HH";
      case TimeField::kMinute:
        return "mm";
      case TimeField::kSecond:
        return "ss";
      case TimeField::kLiteral:
        break;
    }
    return "";
  }

  void AddToFolder(PartKind kind, const std::string& text) {
    if (!pieces_.empty() && pieces_.back().kind == kind && kind != PartKind::kField) {
      pieces_.back().text += text;
    } else {
      pieces_.push_back({kind, text});
    }
  }

  // A folder's name cannot leave the prefix or make an empty folder. `position`: where
  // the folder ends.
  Status CheckFolderName(size_t position) {
    if (folder_shape_ == "." || folder_shape_ == "..") {
      return Invalid("folder '" + folder_shape_ + "' would leave the stream's prefix", position);
    }
    return Status::OK();
  }

  // The '/' at `position` ends the folder being read.
  Status EndFolder(size_t position) {
    if (folder_shape_.empty()) {
      return Invalid(position == 0 ? "must not start with '/'" : "empty folder name ('//')",
                     position);
    }
    BASIN_RETURN_IF_ERROR(CheckFolderName(position));
    if (!pieces_.empty() && pieces_.front().kind == PartKind::kLiteral) {
      const std::string& first = pieces_.front().text;
      size_t equals = first.find('=');
      if (equals == 0)
        return Invalid("a partition folder needs a key name before '='", position);
      if (equals != std::string::npos) {
        std::string key = first.substr(0, equals);
        BASIN_RETURN_IF_ERROR(catalog::ValidateName(key, "prefix expression: partition key"));
        if (!key_names_.insert(key).second)
          return Invalid("partition key '" + key + "' appears twice", position);
        bool is_date = equals + 1 == first.size() && pieces_.size() == 2 &&
                       pieces_[1].kind == PartKind::kTimestamp && pieces_[1].text == "yyyy-MM-dd";
        keys_.push_back({.name = key, .type = is_date ? "DATE" : "VARCHAR"});
      }
    }
    folder_shape_.clear();
    pieces_.clear();
    return Status::OK();
  }

  std::string_view text_;
  // The folder being read, with every value as '\x01' ("dt=\x01"): what checks see.
  std::string folder_shape_;
  std::vector<Piece> pieces_;
  std::vector<catalog::PartitionKey> keys_;
  std::set<std::string> key_names_;
};

Result<PrefixExpression> PrefixExpression::Parse(std::string_view text) {
  return PrefixExpressionParser(text).Parse();
}

Result<std::string> PrefixExpression::Evaluate(std::chrono::system_clock::time_point arrival,
                                               const json& record) const {
  using namespace std::chrono;  // NOLINT(google-build-using-namespace): calendar types
  sys_days day = floor<days>(arrival);
  year_month_day date{day};
  hh_mm_ss time{floor<seconds>(arrival - day)};
  std::string out;
  for (const Part& part : parts_) {
    switch (part.kind) {
      case PartKind::kLiteral:
        out += part.literal;
        break;
      case PartKind::kTimestamp:
        for (const TimeToken& token : part.tokens) {
          switch (token.field) {
            case TimeField::kLiteral:
              out += token.literal;
              break;
            case TimeField::kYear: {
              char year[16];
              std::snprintf(year, sizeof year, "%04d", static_cast<int>(date.year()));
              out += year;
              break;
            }
            case TimeField::kMonth:
              out += TwoDigits(static_cast<unsigned>(date.month()));
              break;
            case TimeField::kDay:
              out += TwoDigits(static_cast<unsigned>(date.day()));
              break;
            case TimeField::kHour:
              out += TwoDigits(static_cast<unsigned>(time.hours().count()));
              break;
            case TimeField::kMinute:
              out += TwoDigits(static_cast<unsigned>(time.minutes().count()));
              break;
            case TimeField::kSecond:
              out += TwoDigits(static_cast<unsigned>(time.seconds().count()));
              break;
          }
        }
        break;
      case PartKind::kField: {
        std::string name = JoinPath(part.path);
        if (!record.is_object()) {
          return Status::InvalidArgument("prefix field '" + name +
                                         "': the record is not a JSON object");
        }
        const json* value = &record;
        for (const std::string& key : part.path) {
          if (!value->is_object() || !value->contains(key)) {
            return Status::InvalidArgument("prefix field '" + name +
                                           "' is missing from the record");
          }
          value = &value->at(key);
        }
        std::string text;
        if (value->is_string()) {
          text = value->get<std::string>();
        } else if (value->is_boolean() || value->is_number()) {
          text = value->dump();
        } else {
          return Status::InvalidArgument("prefix field '" + name + "' is " + value->type_name() +
                                         ", not a string, number or boolean");
        }
        if (text.size() > kMaxValueBytes) {
          return Status::InvalidArgument("prefix field '" + name + "' is longer than " +
                                         std::to_string(kMaxValueBytes) + " bytes");
        }
        const size_t folder = out.rfind('/') == std::string::npos ? 0 : out.rfind('/') + 1;
        std::string safe = SanitizePathValue(text, folder == out.size());
        // Outside a key=value folder an '=' would make the engine see a partition key.
        if (out.find('=', folder) == std::string::npos)
          std::replace(safe.begin(), safe.end(), '=', '_');
        out += safe;
        break;
      }
    }
  }
  // Longer folder names fail on local file systems (NAME_MAX), longer keys on S3 (1,024
  // bytes with the prefix and the object name): refused here, with the record, not at delivery.
  size_t folder_start = 0;
  for (size_t slash = out.find('/'); slash != std::string::npos;
       folder_start = slash + 1, slash = out.find('/', folder_start)) {
    if (slash - folder_start > kMaxFolderBytes) {
      return Status::InvalidArgument(
          "prefix expression: the folder '" + out.substr(folder_start, 40) + "...' is " +
          std::to_string(slash - folder_start) + " bytes, over " + std::to_string(kMaxFolderBytes));
    }
  }
  if (out.size() > kMaxPartitionBytes) {
    return Status::InvalidArgument("prefix expression: the folders are " +
                                   std::to_string(out.size()) + " bytes, over " +
                                   std::to_string(kMaxPartitionBytes));
  }
  return out;
}

std::vector<catalog::PartitionKey> PrefixExpression::PartitionKeys() const {
  return partition_keys_;
}

bool PrefixExpression::ReadsRecord() const {
  for (const Part& part : parts_) {
    if (part.kind == PartKind::kField)
      return true;
  }
  return false;
}

std::string SanitizePathValue(std::string_view value, bool starts_folder) {
  std::string out;
  if (value.empty()) {
    out = "__empty__";
  } else {
    out.reserve(value.size());
    for (size_t i = 0; i < value.size(); ++i) {
      char c = value[i];
      if (c == '.' && i + 1 < value.size() && value[i + 1] == '.') {
        out.push_back('_');
        ++i;
      } else if (c == '/' || c == '\\' || IsControl(c) || c == '*' || c == '?' || c == '[' ||
                 c == ']') {
        // Glob characters too: the engine reads delivered objects by path, and DuckDB
        // would expand them.
        out.push_back('_');
      } else {
        out.push_back(c);
      }
    }
    if (out == ".")
      out = "_";
  }
  // Table scans skip folders whose names start with '_' or '.' (hidden, as in Hive): a value
  // that begins a folder must not, or its records would be delivered and never seen.
  if (starts_folder && (out.front() == '_' || out.front() == '.'))
    out = (out.front() == '_' ? "%5F" : "%2E") + out.substr(1);
  return out;
}

}  // namespace basin::stream
