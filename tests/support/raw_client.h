// RawClient: a blocking loopback TCP client on plain sockets for tests, so hostile requests
// (huge headers, a body announced and never sent, one byte at a time) can be sent as bytes.
#pragma once

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

namespace fleet::testing {

// A blocking loopback client on plain sockets, so hostile requests can be sent as bytes.
struct RawClient {
  int fd = -1;
  explicit RawClient(unsigned short port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) == 0);
    timeval wait{0, 200 * 1000};  // reads give up after 200 ms: the callers loop to a deadline
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  }
  ~RawClient() { ::close(fd); }
  bool Send(const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads until the server closes (true) or the deadline passes (false).
  bool ReadToClose(std::string& out, std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    char buffer[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        out.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        return true;
      }
    }
    return false;
  }
  // A slowloris: one byte every 200 ms (the read timeout paces it) until the server closes or
  // answers (true), or `within` passes (false).
  bool TrickleUntilCut(std::chrono::seconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!Send("X")) return true;
      char byte;
      const ssize_t n = ::recv(fd, &byte, 1, 0);
      if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return true;
    }
    return false;
  }
};

}  // namespace fleet::testing
