// The Amazon Data Firehose API (JSON 1.1 protocol) over the delivery streams, so that the
// AWS SDKs and agents can put records with a basin access key (docs/streams.md,
// "Firehose-compatible API"). Requests are POST with X-Amz-Target: Firehose_20150804.<Op>,
// routed here by the AwsJsonDispatcher (aws_json_dispatch.h), which authenticates them;
// answers and errors use AWS's JSON shapes, not basin's.
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <httplib.h>

#include "basin/common/crypto.h"
#include "basin/server/api_server.h"
#include "basin/server/aws_json_dispatch.h"

namespace basin::server {
namespace {

constexpr char kTargetPrefix[] = "Firehose_20150804";
// Firehose's limits for one PutRecordBatch call.
constexpr size_t kMaxBatchRecords = 500;
constexpr size_t kMaxBatchBytes = 4u << 20;
// The destination table may be named by this tag ("database.table") at creation.
constexpr char kTableTag[] = "basin:table";
constexpr char kDefaultDatabase[] = "streams";

// The AWS error type of a basin status: what the SDKs turn into exception classes.
std::pair<int, const char*> AwsErrorFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPayloadTooLarge:
      return {400, "InvalidArgumentException"};
    case StatusCode::kNotFound:
      return {400, "ResourceNotFoundException"};
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return {400, "ResourceInUseException"};
    case StatusCode::kResourceExhausted:
      return {400, "LimitExceededException"};
    case StatusCode::kUnauthenticated:
      return {403, "UnrecognizedClientException"};
    case StatusCode::kPermissionDenied:
      return {403, "AccessDeniedException"};
    case StatusCode::kUnavailable:
      return {503, "ServiceUnavailableException"};
    default:
      return {500, "InternalFailure"};
  }
}

void WriteFirehoseError(httplib::Response& response, const Status& status,
                        std::chrono::seconds retry_after = std::chrono::seconds(1)) {
  auto [http_status, type] = AwsErrorFor(status.code());
  if (status.code() == StatusCode::kUnavailable)
    response.set_header("Retry-After", std::to_string(retry_after.count()));
  WriteAwsError(response, http_status, type,
                http_status == 500 ? status.ToString() : status.message());
}

Result<std::string> Base64Decode(std::string_view text) {
  static const std::array<int8_t, 256> kValues = [] {
    std::array<int8_t, 256> values{};
    values.fill(-1);
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < kAlphabet.size(); ++i)
      values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    return values;
  }();
  while (!text.empty() && text.back() == '=')
    text.remove_suffix(1);
  if (text.size() % 4 == 1)
    return Status::InvalidArgument("Data is not valid base64");
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t bits = 0;
  int count = 0;
  for (unsigned char c : text) {
    int8_t value = kValues[c];
    if (value < 0)
      return Status::InvalidArgument("Data is not valid base64");
    bits = (bits << 6) | static_cast<uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

Result<std::string> StringField(const nlohmann::json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end() || !found->is_string())
    return Status::InvalidArgument(std::string(name) + " is required and must be a string");
  return found->get<std::string>();
}

// The record bytes of {"Data": base64}, without one trailing newline (agents send
// newline-terminated JSON lines; the stream parses each record as one JSON value).
Result<std::string> RecordData(const nlohmann::json& record) {
  if (!record.is_object())
    return Status::InvalidArgument("a record must be an object {\"Data\": base64}");
  BASIN_ASSIGN_OR_RETURN(std::string encoded, StringField(record, "Data"));
  BASIN_ASSIGN_OR_RETURN(std::string data, Base64Decode(encoded));
  if (!data.empty() && data.back() == '\n')
    data.pop_back();
  if (!data.empty() && data.back() == '\r')
    data.pop_back();
  return data;
}

std::string Arn(std::string_view region, std::string_view name) {
  return "arn:aws:firehose:" + std::string(region) + ":000000000000:deliverystream/" +
         std::string(name);
}

// The default destination table name of a stream: lower case, '-' and '.' as '_'.
std::string DefaultTableName(std::string_view stream_name) {
  std::string table;
  for (char c : stream_name) {
    if (c == '-' || c == '.')
      table.push_back('_');
    else
      table.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return table;
}

// An S3 key prefix as a lake URL: the lake stands for the bucket.
std::string LakeUrl(std::string_view key_prefix) {
  while (!key_prefix.empty() && key_prefix.front() == '/')
    key_prefix.remove_prefix(1);
  return "lake://" + std::string(key_prefix);
}

// Reads CreateDeliveryStream's fields into a definition (validated by the store).
Result<stream::StreamDefinition> DefinitionOfCreate(const nlohmann::json& body) {
  stream::StreamDefinition definition;
  BASIN_ASSIGN_OR_RETURN(definition.name, StringField(body, "DeliveryStreamName"));
  if (body.contains("DeliveryStreamType") && body["DeliveryStreamType"] != "DirectPut")
    return Status::InvalidArgument("only DeliveryStreamType DirectPut is supported");
  definition.database = kDefaultDatabase;
  definition.table = DefaultTableName(definition.name);
  if (auto tags = body.find("Tags"); tags != body.end() && tags->is_array()) {
    for (const nlohmann::json& tag : *tags) {
      if (!tag.is_object() || tag.value("Key", "") != kTableTag)
        continue;
      std::string value = tag.value("Value", "");
      size_t dot = value.find('.');
      if (dot == std::string::npos || dot == 0 || dot + 1 == value.size())
        return Status::InvalidArgument(std::string("tag ") + kTableTag +
                                       " must be database.table, got '" + value + "'");
      definition.database = value.substr(0, dot);
      definition.table = value.substr(dot + 1);
    }
  }
  const nlohmann::json* destination = nullptr;
  for (const auto& [key, value] : body.items()) {
    if (key == "ExtendedS3DestinationConfiguration" || key == "S3DestinationConfiguration")
      destination = &value;
    else if (key.ends_with("DestinationConfiguration") || key.ends_with("SourceConfiguration"))
      return Status::InvalidArgument(key +
                                     " is not supported (use ExtendedS3DestinationConfiguration)");
  }
  if (destination == nullptr || !destination->is_object())
    return definition;
  // Prefix: the static folders become the stream's lake prefix, the rest from the first
  // "!{" on its prefix expression (as Firehose evaluates it per record).
  if (auto prefix = destination->find("Prefix");
      prefix != destination->end() && prefix->is_string()) {
    std::string text = prefix->get<std::string>();
    size_t expression = text.find("!{");
    size_t split = expression == std::string::npos ? text.size() : text.rfind('/', expression);
    split = split == std::string::npos ? 0 : (expression == std::string::npos ? split : split + 1);
    if (split > 0)
      definition.prefix = LakeUrl(text.substr(0, split));
    definition.prefix_expression = text.substr(split);
  }
  if (auto errors = destination->find("ErrorOutputPrefix");
      errors != destination->end() && errors->is_string()) {
    std::string text = errors->get<std::string>();
    if (text.find("!{") != std::string::npos)
      return Status::InvalidArgument("ErrorOutputPrefix: expressions (!{...}) are not supported");
    if (!text.empty())
      definition.error_prefix = LakeUrl(text);
  }
  if (auto hints = destination->find("BufferingHints");
      hints != destination->end() && hints->is_object()) {
    if (auto size = hints->find("SizeInMBs"); size != hints->end() && size->is_number_integer())
      definition.buffer_mib = size->get<int>();
    if (auto interval = hints->find("IntervalInSeconds");
        interval != hints->end() && interval->is_number_integer())
      definition.buffer_seconds = interval->get<int>();
  }
  if (auto compression = destination->find("CompressionFormat");
      compression != destination->end()) {
    if (*compression == "GZIP") {
      definition.format = stream::OutputFormat::kNdjson;
      definition.compression = stream::Compression::kGzip;
    } else if (*compression != "UNCOMPRESSED") {
      return Status::InvalidArgument("CompressionFormat must be UNCOMPRESSED or GZIP");
    }
  }
  return definition;
}

nlohmann::json Description(const stream::StoredStream& stored, std::string_view region) {
  const stream::StreamDefinition& d = stored.definition;
  nlohmann::json s3 = {
      {"RoleARN", "arn:aws:iam::000000000000:role/basin"},
      {"BucketARN", "arn:aws:s3:::basin-lake"},
      {"Prefix", d.prefix + d.prefix_expression},
      {"ErrorOutputPrefix", d.error_prefix},
      {"BufferingHints", {{"SizeInMBs", d.buffer_mib}, {"IntervalInSeconds", d.buffer_seconds}}},
      {"CompressionFormat", d.compression == stream::Compression::kGzip ? "GZIP" : "UNCOMPRESSED"},
      {"EncryptionConfiguration", {{"NoEncryptionConfig", "NoEncryption"}}},
  };
  double created = static_cast<double>(stored.created_at.time_since_epoch().count());
  double updated = static_cast<double>(stored.updated_at.time_since_epoch().count());
  return {{"DeliveryStreamName", d.name},
          {"DeliveryStreamARN", Arn(region, d.name)},
          {"DeliveryStreamStatus", "ACTIVE"},
          {"DeliveryStreamType", "DirectPut"},
          {"VersionId", std::to_string(static_cast<int64_t>(updated))},
          {"CreateTimestamp", created},
          {"LastUpdateTimestamp", updated},
          {"Destinations", nlohmann::json::array({{{"DestinationId", "destinationId-000000000001"},
                                                   {"S3DestinationDescription", s3},
                                                   {"ExtendedS3DestinationDescription", s3}}})},
          {"HasMoreDestinations", false}};
}

std::string NewRecordId() {
  return RandomAlphanumeric(56);
}

// Ingests `records`; per record a RequestResponses entry.
Result<nlohmann::json> Put(delivery::StreamService& service, const std::string& name,
                           const std::vector<std::string>& records, int64_t& failed) {
  BASIN_ASSIGN_OR_RETURN(delivery::IngestResult ingested,
                         service.Ingest(name, records, std::chrono::system_clock::now()));
  nlohmann::json responses = nlohmann::json::array();
  failed = 0;
  for (const Status& status : ingested.records) {
    if (status.ok()) {
      responses.push_back({{"RecordId", NewRecordId()}});
    } else {
      ++failed;
      responses.push_back(
          {{"ErrorCode", AwsErrorFor(status.code()).second}, {"ErrorMessage", status.message()}});
    }
  }
  return responses;
}

// What the operations work on: the stream definitions and, in a server that delivers
// streams, the ingest service (null otherwise: puts answer 503).
struct Firehose {
  stream::StreamStore& store;
  delivery::StreamService* service;
};

// PutRecord ({"Record": ...}) and PutRecordBatch ({"Records": [...]}).
void PutRecords(const Firehose& firehose, const AwsJsonCall& call, httplib::Response& response) {
  const bool batch = call.operation == "PutRecordBatch";
  const nlohmann::json& body = call.body;
  if (firehose.service == nullptr)
    return WriteFirehoseError(response,
                              Status::Unavailable("this server does not deliver streams"));
  Result<std::string> name = StringField(body, "DeliveryStreamName");
  if (!name.ok())
    return WriteFirehoseError(response, name.status());
  std::vector<nlohmann::json> items;
  if (!batch) {
    if (!body.contains("Record"))
      return WriteFirehoseError(response, Status::InvalidArgument("Record is required"));
    items.push_back(body["Record"]);
  } else {
    auto records = body.find("Records");
    if (records == body.end() || !records->is_array() || records->empty())
      return WriteFirehoseError(response,
                                Status::InvalidArgument("Records must be a non-empty array"));
    if (records->size() > kMaxBatchRecords)
      return WriteFirehoseError(
          response, Status::InvalidArgument("Records has " + std::to_string(records->size()) +
                                            " records; at most 500 per call"));
    items.assign(records->begin(), records->end());
  }
  std::vector<std::string> data;
  size_t total = 0;
  for (const nlohmann::json& item : items) {
    Result<std::string> record = RecordData(item);
    if (!record.ok())
      return WriteFirehoseError(response, record.status());
    total += record->size();
    data.push_back(std::move(record).value());
  }
  if (total > kMaxBatchBytes)
    return WriteFirehoseError(response,
                              Status::InvalidArgument("the records total " + std::to_string(total) +
                                                      " bytes; at most 4 MiB per call"));
  int64_t failed = 0;
  Result<nlohmann::json> responses = Put(*firehose.service, *name, data, failed);
  if (!responses.ok())
    return WriteFirehoseError(response, responses.status(), firehose.service->RetryAfter(*name));
  if (!batch) {
    const nlohmann::json& only = (*responses)[0];
    if (failed > 0)
      return WriteFirehoseError(response,
                                Status::InvalidArgument(only["ErrorMessage"].get<std::string>()));
    return WriteAwsJson(response, 200, {{"RecordId", only["RecordId"]}, {"Encrypted", false}});
  }
  WriteAwsJson(
      response, 200,
      {{"FailedPutCount", failed}, {"Encrypted", false}, {"RequestResponses", *responses}});
}

void CreateDeliveryStream(const Firehose& firehose, const AwsJsonCall& call,
                          httplib::Response& response) {
  Result<stream::StreamDefinition> definition = DefinitionOfCreate(call.body);
  if (!definition.ok())
    return WriteFirehoseError(response, definition.status());
  Result<stream::StoredStream> created = firehose.store.Create(*definition);
  if (!created.ok())
    return WriteFirehoseError(response, created.status());
  WriteAwsJson(response, 200, {{"DeliveryStreamARN", Arn(call.region, created->definition.name)}});
}

void DescribeDeliveryStream(const Firehose& firehose, const AwsJsonCall& call,
                            httplib::Response& response) {
  Result<std::string> name = StringField(call.body, "DeliveryStreamName");
  if (!name.ok())
    return WriteFirehoseError(response, name.status());
  Result<stream::StoredStream> stored = firehose.store.Get(*name);
  if (!stored.ok())
    return WriteFirehoseError(response, stored.status());
  WriteAwsJson(response, 200, {{"DeliveryStreamDescription", Description(*stored, call.region)}});
}

void ListDeliveryStreams(const Firehose& firehose, const AwsJsonCall& call,
                         httplib::Response& response) {
  const nlohmann::json& body = call.body;
  size_t limit = 10;
  if (auto given = body.find("Limit"); given != body.end()) {
    if (!given->is_number_integer() || given->get<int64_t>() < 1 || given->get<int64_t>() > 10000)
      return WriteFirehoseError(response, Status::InvalidArgument("Limit must be 1 to 10000"));
    limit = given->get<size_t>();
  }
  std::string after = body.value("ExclusiveStartDeliveryStreamName", "");
  Result<std::vector<stream::StoredStream>> all = firehose.store.List();
  if (!all.ok())
    return WriteFirehoseError(response, all.status());
  nlohmann::json names = nlohmann::json::array();
  bool more = false;
  for (const stream::StoredStream& stored : *all) {
    if (!after.empty() && stored.definition.name <= after)
      continue;
    if (names.size() == limit) {
      more = true;
      break;
    }
    names.push_back(stored.definition.name);
  }
  WriteAwsJson(response, 200, {{"DeliveryStreamNames", names}, {"HasMoreDeliveryStreams", more}});
}

void DeleteDeliveryStream(const Firehose& firehose, const AwsJsonCall& call,
                          httplib::Response& response) {
  Result<std::string> name = StringField(call.body, "DeliveryStreamName");
  if (!name.ok())
    return WriteFirehoseError(response, name.status());
  if (Status deleted = firehose.store.Delete(*name); !deleted.ok())
    return WriteFirehoseError(response, deleted);
  if (firehose.service != nullptr)
    firehose.service->Forget(*name);
  WriteAwsJson(response, 200, nlohmann::json::object());
}

}  // namespace

void ApiServer::RegisterFirehoseRoutes() {
  if (streams_ == nullptr)
    return;
  const Firehose firehose{*streams_, stream_service_};
  using Handler = void (*)(const Firehose&, const AwsJsonCall&, httplib::Response&);
  auto operation = [firehose](auth::Role role, Handler handler) {
    return AwsJsonOperation{
        role, [firehose, handler](const AwsJsonCall& call, httplib::Response& response) {
          handler(firehose, call, response);
        }};
  };
  using auth::Role;
  aws_json_->Register(
      {.target_prefix = kTargetPrefix,
       .operations = {
           {"PutRecord", operation(Role::kEditor, PutRecords)},
           {"PutRecordBatch", operation(Role::kEditor, PutRecords)},
           {"CreateDeliveryStream", operation(Role::kEditor, CreateDeliveryStream)},
           {"DescribeDeliveryStream", operation(Role::kViewer, DescribeDeliveryStream)},
           {"ListDeliveryStreams", operation(Role::kViewer, ListDeliveryStreams)},
           {"DeleteDeliveryStream", operation(Role::kEditor, DeleteDeliveryStream)},
       }});
}
}  // namespace basin::server
