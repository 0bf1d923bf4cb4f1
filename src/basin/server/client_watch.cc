#include "basin/server/client_watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <httplib.h>

namespace basin::server {
namespace {

bool SameEndpoint(const sockaddr_storage& address, const std::string& ip, int port) {
  char text[INET6_ADDRSTRLEN] = {};
  int found_port = -1;
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    found_port = ntohs(in.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    found_port = ntohs(in6.sin6_port);
  } else {
    return false;
  }
  return found_port == port && (ip.empty() || ip == text);
}

}  // namespace

int FindConnectedSocket(const std::string& remote_addr, int remote_port, int local_port) {
  if (remote_port <= 0 || local_port <= 0)
    return -1;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    struct stat info {};
    if (fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode))
      continue;
    sockaddr_storage peer{}, local{};
    socklen_t peer_size = sizeof(peer), local_size = sizeof(local);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0)
      continue;
    if (SameEndpoint(peer, remote_addr, remote_port) && SameEndpoint(local, "", local_port))
      return fd;
  }
  return -1;
}

bool PeerHungUp(int socket) {
  pollfd watched{.fd = socket, .events = POLLRDHUP, .revents = 0};
  if (poll(&watched, 1, 0) < 0)
    return false;
  return (watched.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

ClientWatch::ClientWatch(const httplib::Request& request, std::atomic<bool>& cancel,
                         const std::atomic<bool>& stopping)
    : socket_(FindConnectedSocket(request.remote_addr, request.remote_port, request.local_port)) {
  thread_ = std::thread([this, &cancel, &stopping] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_) {
      if (stopping.load()) {
        cancel = true;
        return;
      }
      if (socket_ >= 0 && PeerHungUp(socket_)) {
        client_gone_ = true;
        cancel = true;
        return;
      }
      wake_.wait_for(lock, std::chrono::milliseconds(100));
    }
  });
}

ClientWatch::~ClientWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

}  // namespace basin::server
