// Fuzz target for what the crawler parses from untrusted object names and contents: the
// content classifier, the decompressor of object heads and the partition-path parser.
// Built with libFuzzer when clang is the compiler (cmake -DBASIN_FUZZ=ON); otherwise
// crawler_fuzz_replay runs the same function over the seed corpus in fuzz/crawler/.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "basin/crawler/classifier.h"
#include "basin/crawler/object_probe.h"
#include "basin/crawler/partition_path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view tail = input.substr(input.size() > 4 ? input.size() - 4 : 0);
  basin::crawler::Classification classification =
      basin::crawler::ClassifyContent(input, tail, input.substr(0, 16));
  (void)classification;
  basin::crawler::Compression compression = basin::crawler::DetectCompression(input);
  std::string inflated = basin::crawler::InflatePrefix(input, compression, 4096);
  if (inflated.size() > 4096)
    __builtin_trap();
  auto levels = basin::crawler::ParsePartitionPath(input);
  std::vector<std::string> values;
  for (const auto& level : levels)
    values.push_back(level.value);
  (void)basin::crawler::InferPartitionType(values);
  return 0;
}
