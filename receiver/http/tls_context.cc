#include "receiver/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace fleet::receiver {

namespace ssl = boost::asio::ssl;

namespace {

// What OpenSSL said (Asio's message for its error), the error queue left empty.
std::string Why(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec ? ec.message() : "failed";
}

}  // namespace

Result<std::shared_ptr<ssl::context>> LoadTlsContext(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                           ssl::context::single_dh_use,
                       ec);
  SSL_CTX* native = context->native_handle();
  if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Error{"cannot set up TLS: " + Why(ec)};
  }
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  context->use_certificate_chain_file(files.cert_file, ec);
  if (ec) return Error{"TLS certificate " + files.cert_file + ": " + Why(ec)};
  context->use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {
    return Error{"TLS key " + files.key_file + " (of certificate " + files.cert_file +
                 "): " + Why(ec)};
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Error{"TLS key " + files.key_file + " does not belong to the certificate " +
                 files.cert_file};
  }
  return context;
}

}  // namespace fleet::receiver
