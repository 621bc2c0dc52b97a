// TlsContext: the receiver's server-side TLS settings, made from a certificate chain file and
// its private key file (PEM). LoadTlsContext reads both, checks that the key belongs to the
// certificate and returns a context that speaks TLS 1.2 and 1.3 only, without compression or
// renegotiation, the server's cipher order first. Errors are values naming the file and what
// OpenSSL said. A loaded context is immutable: the HTTP server gives each new connection the
// current one and swaps in a new one on reload, so a connection keeps the context it started
// with (shared_ptr) and open connections outlive a reload.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "base/result.h"

namespace fleet::receiver {

struct TlsFiles {
  std::string cert_file;  // PEM: the server certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
};

Result<std::shared_ptr<boost::asio::ssl::context>> LoadTlsContext(const TlsFiles& files);

}  // namespace fleet::receiver
