#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace httplib {
struct Request;
}

namespace basin::server {

/// Sets `cancel` when the client of `request` hangs up (its side of the connection is
/// closed) or when `stopping` becomes true, so a query nobody waits for stops. cpp-httplib
/// does not hand its socket to handlers, so the socket is found by its addresses; when it
/// cannot be found, only `stopping` is watched. Polls ten times a second until destroyed.
class ClientWatch {
 public:
  ClientWatch(const httplib::Request& request, std::atomic<bool>& cancel,
              const std::atomic<bool>& stopping);
  ~ClientWatch();
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  /// True when the watch set `cancel` because the client went away.
  bool client_gone() const { return client_gone_; }

 private:
  int socket_ = -1;
  std::atomic<bool> client_gone_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

/// The socket of this process connected from `remote_addr:remote_port` to local port
/// `local_port`, or -1.
int FindConnectedSocket(const std::string& remote_addr, int remote_port, int local_port);

/// True when the peer of `socket` has closed its side (or the socket failed).
bool PeerHungUp(int socket);

}  // namespace basin::server
