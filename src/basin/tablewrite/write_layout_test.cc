#include "basin/tablewrite/write_layout.h"

#include <gtest/gtest.h>

namespace basin::tablewrite {
namespace {

TEST(WriteLayoutTest, WriteIdsAndFolders) {
  auto moment = std::chrono::sys_days(std::chrono::year{2026} / 11 / 25) + std::chrono::hours(10) +
                std::chrono::minutes(15) + std::chrono::seconds(2);
  std::string id = NewWriteId(moment);
  EXPECT_EQ(id.substr(0, 17), "20261125T101502Z-");
  EXPECT_EQ(id.size(), 23u);
  EXPECT_NE(NewWriteId(moment), id) << "random part";
  EXPECT_TRUE(IsWriteFolder(WriteFolder(id)));
  for (const char* name :
       {"w-", "w-20261125T101502Z-ab12c", "w-20261125T101502Z-AB12CD", "x-20261125T101502Z-ab12cd",
        "w-2026112xT101502Z-ab12cd", "dt=2026-11-25"}) {
    EXPECT_FALSE(IsWriteFolder(name)) << name;
  }
  EXPECT_EQ(BaseLocation("lake://warehouse/db/t/w-20261125T101502Z-ab12cd/"),
            "lake://warehouse/db/t/");
  EXPECT_EQ(BaseLocation("lake://raw/events/"), "lake://raw/events/");
}

TEST(WriteLayoutTest, PartitionValuesComeFromTheFoldersOfTheWrite) {
  std::string folder = "w-20261125T101502Z-ab12cd";
  auto values =
      PartitionValuesOf("dt=2026-11-25/region=a%2Fb%3Dc%20%ED%95%9C/" + folder + "/part-0.parquet",
                        folder, {"dt", "region"});
  ASSERT_TRUE(values.ok()) << values.status().ToString();
  ASSERT_TRUE(values->has_value());
  EXPECT_EQ(**values, (std::vector<std::string>{"2026-11-25", "a/b=c 한"}));
  EXPECT_FALSE(
      PartitionValuesOf("dt=2026-11-24/w-20261124T000000Z-000000/part-0.parquet", folder, {"dt"})
          ->has_value());
  EXPECT_FALSE(PartitionValuesOf("dt=2026-11-24/old.parquet", folder, {"dt"})->has_value());
  EXPECT_FALSE(PartitionValuesOf("region=x/" + folder + "/part-0.parquet", folder, {"dt"}).ok());
  EXPECT_FALSE(PartitionValuesOf(folder + "/part-0.parquet", folder, {"dt"}).ok());

  EXPECT_TRUE(IsOutsideTableData("w-20261124T000000Z-000000/part-0.parquet"));
  EXPECT_TRUE(IsOutsideTableData("_SUCCESS"));
  EXPECT_TRUE(IsOutsideTableData(".staging/x.parquet"));
  EXPECT_FALSE(IsOutsideTableData("part-0.parquet"));
  EXPECT_FALSE(IsOutsideTableData("sub/old.csv"));
}

}  // namespace
}  // namespace basin::tablewrite
