#pragma once

#include <string_view>

#include "basin/common/result.h"

namespace basin::auth {

/// What a user may do, each role including the ones below it: a viewer reads, an
/// editor also writes data, an admin also manages users and settings.
enum class Role { kViewer, kEditor, kAdmin };

/// "viewer", "editor" or "admin": the stored and API spelling.
std::string_view RoleName(Role role);

/// The role named "viewer", "editor" or "admin" (exact, lower case); InvalidArgument
/// otherwise.
Result<Role> ParseRole(std::string_view name);

/// True when `have` grants at least what `need` grants.
bool RoleAtLeast(Role have, Role need);

}  // namespace basin::auth
