#include "basin/auth/role.h"

#include <gtest/gtest.h>

namespace basin::auth {
namespace {

TEST(AuthRoleTest, NamesRoundTrip) {
  for (Role role : {Role::kViewer, Role::kEditor, Role::kAdmin}) {
    auto parsed = ParseRole(RoleName(role));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(*parsed, role);
  }
  EXPECT_EQ(RoleName(Role::kViewer), "viewer");
  EXPECT_EQ(RoleName(Role::kEditor), "editor");
  EXPECT_EQ(RoleName(Role::kAdmin), "admin");
}

TEST(AuthRoleTest, UnknownNamesAreInvalid) {
  for (const char* name : {"", "Admin", "ADMIN", "root", "admin ", "owner"}) {
    EXPECT_EQ(ParseRole(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST(AuthRoleTest, Ordering) {
  EXPECT_TRUE(RoleAtLeast(Role::kAdmin, Role::kAdmin));
  EXPECT_TRUE(RoleAtLeast(Role::kAdmin, Role::kEditor));
  EXPECT_TRUE(RoleAtLeast(Role::kAdmin, Role::kViewer));
  EXPECT_TRUE(RoleAtLeast(Role::kEditor, Role::kEditor));
  EXPECT_TRUE(RoleAtLeast(Role::kEditor, Role::kViewer));
  EXPECT_TRUE(RoleAtLeast(Role::kViewer, Role::kViewer));
  EXPECT_FALSE(RoleAtLeast(Role::kViewer, Role::kEditor));
  EXPECT_FALSE(RoleAtLeast(Role::kViewer, Role::kAdmin));
  EXPECT_FALSE(RoleAtLeast(Role::kEditor, Role::kAdmin));
}

}  // namespace
}  // namespace basin::auth
