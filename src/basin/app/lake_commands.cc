// basin ls | cp | cat | rm: lake files from the command line.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/common/time_format.h"
#include "basin/storage/location.h"

namespace basin::app {
namespace {

/// One side of a file command: a store and a key in it.
struct Place {
  std::unique_ptr<storage::ObjectStore> owned;
  storage::ObjectStore* store = nullptr;
  std::string key;      // object key or prefix, normalised
  std::string display;  // as the user wrote it, for messages
  bool local_path = false;
};

/// "lake://k" -> the home's lake; "s3://b/k" -> that bucket; anything else is a local
/// path when `bare_is_local`, or a lake key otherwise (ls, cat, rm).
Result<Place> ResolvePlace(const GlobalFlags& flags, std::unique_ptr<Home>& home,
                           const std::string& arg, bool bare_is_local) {
  Place place;
  place.display = arg;
  bool is_s3 = arg.rfind("s3://", 0) == 0;
  bool is_lake = arg.rfind("lake://", 0) == 0 || (!is_s3 && !bare_is_local);
  if (is_lake || (is_s3 && !home)) {
    if (!home) {
      Result<std::unique_ptr<Home>> opened = OpenHome(flags);
      // s3:// URLs work without a home, with the AWS environment variables.
      if (!opened.ok() && is_lake)
        return opened.status();
      if (opened.ok())
        home = std::move(opened).value();
    }
  }
  if (is_lake) {
    BASIN_ASSIGN_OR_RETURN(auto stores, home->Stores());
    std::string url = arg.rfind("lake://", 0) == 0 ? arg : "lake://" + arg;
    BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores->Resolve(url));
    place.store = resolved.store;
    place.key = resolved.key;
    // Keep the resolver (and so the store) alive through the home.
    return place;
  }
  BASIN_ASSIGN_OR_RETURN(storage::Location location, storage::ParseLocation(arg));
  storage::S3Options s3;
  if (home) {
    s3 = home->config().s3;
  } else {
    s3.FillFromEnvironment();
  }
  BASIN_ASSIGN_OR_RETURN(place.owned, storage::OpenStore(location, s3));
  place.store = place.owned.get();
  place.key = location.key;
  place.local_path = location.kind == storage::Location::Kind::kLocal;
  return place;
}

std::string Join(const std::string& prefix, const std::string& name) {
  if (prefix.empty())
    return name;
  return prefix.back() == '/' ? prefix + name : prefix + "/" + name;
}

std::string BaseName(const std::string& key) {
  std::string trimmed = key;
  while (!trimmed.empty() && trimmed.back() == '/')
    trimmed.pop_back();
  size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

// Streams one object from one store to another, aborting the write on error or Ctrl-C.
Status CopyObject(storage::ObjectStore& from, const std::string& from_key, storage::ObjectStore& to,
                  const std::string& to_key, ProgressBar& progress) {
  if (&from == &to) {
    BASIN_ASSIGN_OR_RETURN(storage::ObjectInfo info, from.Stat(from_key));
    BASIN_RETURN_IF_ERROR(from.Copy(from_key, to_key));
    progress.Add(info.size);
    return Status::OK();
  }
  BASIN_ASSIGN_OR_RETURN(auto reader, from.OpenForRead(from_key));
  BASIN_ASSIGN_OR_RETURN(auto writer, to.OpenForWrite(to_key));
  std::string buffer(std::min<uint64_t>(std::max<uint64_t>(reader->size(), 1), 8 << 20), '\0');
  for (uint64_t offset = 0; offset < reader->size();) {
    if (interrupted) {
      (void)writer->Abort();
      return Status::Cancelled("copy interrupted; " + to_key + " was not written");
    }
    BASIN_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(offset, buffer.size(), buffer.data()));
    if (got == 0)
      break;
    BASIN_RETURN_IF_ERROR(writer->Append(std::string_view(buffer.data(), got)));
    offset += got;
    progress.Add(got);
  }
  return writer->Close();
}

int RunLs(const GlobalFlags& flags, const std::string& target, bool recursive) {
  std::unique_ptr<Home> home;
  Result<Place> place = ResolvePlace(flags, home, target, false);
  if (!place.ok())
    return ReportError(place.status());
  std::string prefix = place->key;
  // "ls dir" lists inside dir, as a shell would; a plain object lists itself.
  if (!prefix.empty() && prefix.back() != '/' && !place->store->Stat(prefix).ok())
    prefix += "/";
  auto listed = place->store->List(prefix, {.recursive = recursive});
  if (!listed.ok())
    return ReportError(listed.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const storage::ObjectInfo& info : *listed) {
      if (info.is_prefix) {
        list.push_back({{"key", info.key}, {"prefix", true}});
      } else {
        list.push_back({{"key", info.key},
                        {"size", info.size},
                        {"modified", FormatIso8601(info.modified)},
                        {"etag", info.etag}});
      }
    }
    PrintJson(list);
    return kExitOk;
  }
  for (const storage::ObjectInfo& info : *listed) {
    if (info.is_prefix) {
      std::printf("%24s  %12s  %s\n", "", "PRE", info.key.c_str());
    } else {
      std::printf("%24s  %12llu  %s\n", FormatIso8601(info.modified).c_str(),
                  static_cast<unsigned long long>(info.size), info.key.c_str());
    }
  }
  return kExitOk;
}

int RunCp(const GlobalFlags& flags, const std::string& source, const std::string& target,
          bool recursive) {
  std::unique_ptr<Home> home;
  Result<Place> from = ResolvePlace(flags, home, source, true);
  if (!from.ok())
    return ReportError(from.status());
  Result<Place> to = ResolvePlace(flags, home, target, true);
  if (!to.ok())
    return ReportError(to.status());
  InstallInterruptFlag();

  std::vector<std::pair<std::string, std::string>> pairs;  // source key -> target key
  uint64_t total = 0;
  Result<storage::ObjectInfo> single = from->key.empty()
                                           ? Result<storage::ObjectInfo>(Status::NotFound(""))
                                           : from->store->Stat(from->key);
  if (single.ok()) {
    bool into_folder = target.back() == '/' || to->key.empty() ||
                       (to->local_path && std::filesystem::is_directory(target));
    if (!into_folder && !to->local_path && !to->store->Stat(to->key).ok()) {
      auto children = to->store->List(Join(to->key, ""), {.recursive = false});
      into_folder = children.ok() && !children->empty();
    }
    pairs.emplace_back(from->key, into_folder ? Join(to->key, BaseName(from->key)) : to->key);
    total = single->size;
  } else if (!single.status().IsNotFound()) {
    return ReportError(single.status());
  } else {
    std::string prefix = from->key.empty() ? "" : Join(from->key, "");
    auto listed = from->store->List(prefix);
    if (!listed.ok())
      return ReportError(listed.status());
    if (listed->empty())
      return ReportError(Status::NotFound("nothing to copy at " + source));
    if (!recursive) {
      return ReportError(Status::InvalidArgument(
          source + " is a folder or prefix; use -r to copy everything under it"));
    }
    for (const storage::ObjectInfo& info : *listed) {
      pairs.emplace_back(info.key, Join(to->key, info.key.substr(prefix.size())));
      total += info.size;
    }
  }

  ProgressBar progress("copying " + std::to_string(pairs.size()) + " object(s)", total);
  for (const auto& [from_key, to_key] : pairs) {
    Status copied = CopyObject(*from->store, from_key, *to->store, to_key, progress);
    if (!copied.ok()) {
      progress.Finish();
      return ReportError(copied.WithContext("copying " + from_key));
    }
  }
  progress.Finish();
  if (flags.json) {
    PrintJson({{"objects", pairs.size()}, {"bytes", total}});
  } else {
    std::cerr << "copied " << pairs.size() << " object(s), " << HumanBytes(total) << std::endl;
  }
  return kExitOk;
}

int RunCat(const GlobalFlags& flags, const std::string& target) {
  std::unique_ptr<Home> home;
  Result<Place> place = ResolvePlace(flags, home, target, false);
  if (!place.ok())
    return ReportError(place.status());
  auto reader = place->store->OpenForRead(place->key);
  if (!reader.ok())
    return ReportError(reader.status());
  std::string buffer(1 << 20, '\0');
  for (uint64_t offset = 0; offset < (*reader)->size();) {
    Result<size_t> got = (*reader)->ReadAt(offset, buffer.size(), buffer.data());
    if (!got.ok())
      return ReportError(got.status());
    if (*got == 0)
      break;
    std::cout.write(buffer.data(), static_cast<std::streamsize>(*got));
    offset += *got;
  }
  std::cout.flush();
  return kExitOk;
}

// Removing every object of a store (the lake root, or a whole bucket) needs
// --yes-delete-everything, or a typed confirmation when stdin is a terminal: one `rm -r
// lake://` too many must not wipe the lake.
Status ConfirmRemovingEverything(const std::string& target, const std::string& store, size_t count,
                                 bool confirmed) {
  if (confirmed)
    return Status::OK();
  std::string what = "'" + target + "' is the root of " + store +
                     ": this removes every object in it (" + std::to_string(count) + ")";
  if (!::isatty(STDIN_FILENO) || !::isatty(STDERR_FILENO)) {
    return Status::FailedPrecondition("refusing to remove everything: " + what +
                                      "; pass --yes-delete-everything to do it");
  }
  std::cerr << "basin: " << what << ".\nType 'delete everything' to go on: " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (answer != "delete everything")
    return Status::FailedPrecondition("not confirmed, nothing removed: " + target);
  return Status::OK();
}

int RunRm(const GlobalFlags& flags, const std::string& target, bool recursive, bool everything) {
  std::unique_ptr<Home> home;
  Result<Place> place = ResolvePlace(flags, home, target, false);
  if (!place.ok())
    return ReportError(place.status());
  std::vector<std::string> keys;
  if (!place->key.empty() && place->store->Stat(place->key).ok()) {
    keys.push_back(place->key);
  } else {
    std::string prefix = place->key.empty() ? "" : Join(place->key, "");
    auto listed = place->store->List(prefix);
    if (!listed.ok())
      return ReportError(listed.status());
    if (listed->empty())
      return ReportError(Status::NotFound("no such object or prefix: " + target));
    if (!recursive)
      return ReportError(
          Status::InvalidArgument(target + " is a prefix; use -r to remove everything under it"));
    if (prefix.empty()) {
      Status confirmed =
          ConfirmRemovingEverything(target, place->store->Describe(), listed->size(), everything);
      if (!confirmed.ok())
        return ReportError(confirmed);
    }
    for (const storage::ObjectInfo& info : *listed)
      keys.push_back(info.key);
  }
  InstallInterruptFlag();
  for (const std::string& key : keys) {
    if (interrupted)
      return ReportError(Status::Cancelled("rm interrupted"));
    Status deleted = place->store->Delete(key);
    if (!deleted.ok())
      return ReportError(deleted);
  }
  if (flags.json) {
    PrintJson({{"deleted", keys}});
  } else {
    std::cerr << "removed " << keys.size() << " object(s)" << std::endl;
  }
  return kExitOk;
}

}  // namespace

void AddLakeCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static std::string ls_target, cp_source, cp_target, cat_target, rm_target;
  static bool ls_recursive = false, cp_recursive = false, rm_recursive = false,
              rm_everything = false;

  CLI::App* ls = app.add_subcommand(
      "ls", "List lake objects: lake://prefix (default: the lake root) or s3://bucket/prefix");
  ls->add_option("location", ls_target, "lake://prefix, s3://bucket/prefix, or a key in the lake");
  ls->add_flag("-r,--recursive", ls_recursive, "List every object under the prefix, not one level");
  ls->callback([&] { exit_code = RunLs(flags, ls_target, ls_recursive); });

  CLI::App* cp = app.add_subcommand(
      "cp",
      "Copy files: local <-> lake, lake <-> lake (lake://key, s3://bucket/key, or a local path)");
  cp->add_option("source", cp_source, "What to copy")->required();
  cp->add_option("target", cp_target, "Where to put it; ending in '/' means into that folder")
      ->required();
  cp->add_flag("-r,--recursive", cp_recursive, "Copy everything under a folder or prefix");
  cp->callback([&] { exit_code = RunCp(flags, cp_source, cp_target, cp_recursive); });

  CLI::App* cat = app.add_subcommand("cat", "Print a lake object on stdout");
  cat->add_option("location", cat_target, "lake://key, s3://bucket/key, or a key in the lake")
      ->required();
  cat->callback([&] { exit_code = RunCat(flags, cat_target); });

  CLI::App* rm = app.add_subcommand("rm", "Remove lake objects");
  rm->add_option("location", rm_target, "lake://key, s3://bucket/key, or a key in the lake")
      ->required();
  rm->add_flag("-r,--recursive", rm_recursive, "Remove everything under a prefix");
  rm->add_flag(
      "--yes-delete-everything", rm_everything,
      "With -r on the lake root (lake://) or a whole bucket: remove every object without asking");
  rm->callback([&] { exit_code = RunRm(flags, rm_target, rm_recursive, rm_everything); });
}

}  // namespace basin::app
