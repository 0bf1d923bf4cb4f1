#include "basin/stream/stream_store.h"

#include "basin/common/time_format.h"

namespace basin::stream {
namespace {

using Clock = std::chrono::system_clock;

constexpr char kColumns[] = "id, definition, created_at, updated_at";

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

Result<StoredStream> StreamFromRow(const metadata::Row& row) {
  StoredStream stream;
  BASIN_ASSIGN_OR_RETURN(stream.id, row.Int(0));
  BASIN_ASSIGN_OR_RETURN(std::string text, row.Text(1));
  nlohmann::json definition = nlohmann::json::parse(text, nullptr, false);
  Result<StreamDefinition> parsed = StreamFromJson(definition);
  if (!parsed.ok()) {
    return Status::Internal("stored stream definition " + std::to_string(stream.id) +
                            " is not valid: " + parsed.status().message());
  }
  stream.definition = std::move(parsed).value();
  BASIN_ASSIGN_OR_RETURN(int64_t created, row.Int(2));
  stream.created_at = std::chrono::sys_seconds(std::chrono::seconds(created));
  BASIN_ASSIGN_OR_RETURN(int64_t updated, row.Int(3));
  stream.updated_at = std::chrono::sys_seconds(std::chrono::seconds(updated));
  return stream;
}

Status NotFound(std::string_view name) {
  return Status::NotFound("no stream named '" + std::string(name) + "'");
}

}  // namespace

nlohmann::json ToJson(const StoredStream& stream) {
  nlohmann::json out = ToJson(stream.definition);
  out["created_at"] = FormatIso8601(stream.created_at);
  out["updated_at"] = FormatIso8601(stream.updated_at);
  return out;
}

namespace {

// A stream into an existing table must write what the table reads (CheckDestinationTable).
Status CheckAgainstCatalog(metadata::Database& database, const StreamDefinition& definition) {
  Result<catalog::Table> table =
      catalog::Catalog(database).GetTable(definition.database, definition.table);
  if (table.status().IsNotFound())
    return Status::OK();  // the first delivery creates it
  BASIN_RETURN_IF_ERROR(table.status());
  return CheckDestinationTable(definition, *table);
}

}  // namespace

Result<StoredStream> StreamStore::Create(const StreamDefinition& definition) {
  BASIN_ASSIGN_OR_RETURN(StreamDefinition checked, ValidateStreamDefinition(definition));
  BASIN_RETURN_IF_ERROR(CheckAgainstCatalog(database_, checked));
  int64_t now = NowSeconds();
  Result<int64_t> id = database_.ExecuteReturningId(
      "INSERT INTO streams (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)",
      {checked.name, ToJson(checked).dump(), now, now});
  if (!id.ok()) {
    if (id.status().code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("stream '" + checked.name + "' already exists");
    }
    return id.status();
  }
  return StoredStream{.id = *id,
                      .definition = std::move(checked),
                      .created_at = std::chrono::sys_seconds(std::chrono::seconds(now)),
                      .updated_at = std::chrono::sys_seconds(std::chrono::seconds(now))};
}

Result<StoredStream> StreamStore::Get(std::string_view name) {
  // Only valid names are stored; checking first also keeps odd input out of messages.
  BASIN_RETURN_IF_ERROR(ValidateStreamName(name));
  BASIN_ASSIGN_OR_RETURN(
      std::optional<metadata::Row> row,
      database_.QueryRow(std::string("SELECT ") + kColumns + " FROM streams WHERE name = ?",
                         {std::string(name)}));
  if (!row)
    return NotFound(name);
  return StreamFromRow(*row);
}

Result<std::vector<StoredStream>> StreamStore::List() {
  BASIN_ASSIGN_OR_RETURN(
      std::vector<metadata::Row> rows,
      database_.Query(std::string("SELECT ") + kColumns + " FROM streams ORDER BY name"));
  std::vector<StoredStream> streams;
  streams.reserve(rows.size());
  for (const metadata::Row& row : rows) {
    BASIN_ASSIGN_OR_RETURN(StoredStream stream, StreamFromRow(row));
    streams.push_back(std::move(stream));
  }
  return streams;
}

Result<StoredStream> StreamStore::Update(std::string_view name, const StreamChanges& changes) {
  StoredStream updated;
  // Read and write in one transaction so that a concurrent update is not lost.
  BASIN_RETURN_IF_ERROR(database_.Transaction([&]() -> Status {
    BASIN_ASSIGN_OR_RETURN(updated, Get(name));
    BASIN_ASSIGN_OR_RETURN(updated.definition, ApplyChanges(updated.definition, changes));
    BASIN_RETURN_IF_ERROR(CheckAgainstCatalog(database_, updated.definition));
    int64_t now = NowSeconds();
    updated.updated_at = std::chrono::sys_seconds(std::chrono::seconds(now));
    return database_.Execute("UPDATE streams SET definition = ?, updated_at = ? WHERE id = ?",
                             {ToJson(updated.definition).dump(), now, updated.id});
  }));
  return updated;
}

Status StreamStore::Delete(std::string_view name) {
  BASIN_RETURN_IF_ERROR(ValidateStreamName(name));
  BASIN_ASSIGN_OR_RETURN(int64_t deleted,
                         database_.ExecuteReturningChangeCount("DELETE FROM streams WHERE name = ?",
                                                               {std::string(name)}));
  if (deleted == 0)
    return NotFound(name);
  return Status::OK();
}

}  // namespace basin::stream
