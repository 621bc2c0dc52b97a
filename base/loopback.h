// Loopback: which hosts plain http:// may reach. Records and alerts travel over https; plain
// http goes only to this machine (a local TLS proxy, a test fake). Twice checked, because a
// name is anyone's DNS to answer: by the URL's host as written (IsLoopbackHostName in
// base/units.h: "localhost", "[::1]", 127.x.y.z) before anything is sent, and by every
// address a connection is about to use (IsLoopbackAddress, from libcurl's socket callback),
// "localhost" and a proxy included. Pure.
#pragma once

#include <cstddef>
#include <string_view>

struct sockaddr;

namespace fleet {

// 127.0.0.0/8, ::1 or ::ffff:127.x.y.z; false for anything else, a short length or null.
bool IsLoopbackAddress(const sockaddr* address, std::size_t length);

// The host of an http(s) URL as written, what a connection would go to: user info
// ("user:pw@") skipped, "[::1]" with its brackets, the port left off. Empty when there is
// none.
std::string_view UrlHost(std::string_view url);

}  // namespace fleet
