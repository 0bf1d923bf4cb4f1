#include "basin/auth/role.h"

#include <string>

namespace basin::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role role : {Role::kViewer, Role::kEditor, Role::kAdmin}) {
    if (name == RoleName(role))
      return role;
  }
  return Status::InvalidArgument("unknown role (expected viewer, editor or admin): " +
                                 std::string(name.substr(0, 32)));
}

bool RoleAtLeast(Role have, Role need) {
  // The enumerators are declared in order of power.
  return static_cast<int>(have) >= static_cast<int>(need);
}

}  // namespace basin::auth
