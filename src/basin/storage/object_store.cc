#include "basin/storage/object_store.h"

#include <vector>

namespace basin::storage {

Result<std::string> ObjectStore::ReadAll(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(auto reader, OpenForRead(key));
  std::string data(reader->size(), '\0');
  size_t done = 0;
  while (done < data.size()) {
    BASIN_ASSIGN_OR_RETURN(size_t got,
                           reader->ReadAt(done, data.size() - done, data.data() + done));
    if (got == 0)
      break;  // the object shrank after we opened it
    done += got;
  }
  data.resize(done);
  return data;
}

Status ObjectStore::Write(std::string_view key, std::string_view data) {
  BASIN_ASSIGN_OR_RETURN(auto writer, OpenForWrite(key));
  BASIN_RETURN_IF_ERROR(writer->Append(data));
  return writer->Close();
}

Result<std::string> NormalizePrefix(std::string_view prefix) {
  std::string out;
  out.reserve(prefix.size());
  size_t start = 0;
  while (start <= prefix.size()) {
    size_t end = prefix.find('/', start);
    if (end == std::string_view::npos)
      end = prefix.size();
    std::string_view segment = prefix.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return Status::InvalidArgument("key escapes the lake root or uses a relative segment: '" +
                                     std::string(prefix) + "'");
    }
    if (!segment.empty()) {
      if (!out.empty())
        out.push_back('/');
      out.append(segment);
    }
    start = end + 1;
  }
  for (unsigned char c : out) {
    if (c < 0x20 || c == 0x7f || c == '\\') {
      return Status::InvalidArgument("key has a control character or backslash: '" +
                                     std::string(prefix) + "'");
    }
  }
  if (!out.empty() && !prefix.empty() && prefix.back() == '/')
    out.push_back('/');
  return out;
}

Result<std::string> NormalizeKey(std::string_view key) {
  BASIN_ASSIGN_OR_RETURN(std::string out, NormalizePrefix(key));
  if (out.empty() || out == "/")
    return Status::InvalidArgument("empty object key");
  return out;
}

}  // namespace basin::storage
