// Broker credentials for MQTT gateways [DEV-3a]: the mosquitto password file and ACL file,
// generated from the gateways table. The broker enforces them; see docs/gateway-protocol.md
// "Credentials". Each gateway's username is its code; it may publish only under
// <prefix>/<project>/<gateway>/up/# and subscribe only to <prefix>/<project>/<gateway>/down/#.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.hpp"

namespace joule::ingest {

struct BrokerGateway {
    std::string project_code;
    std::string gateway_code;  // = the broker username
};

// The broker's rules for its accounts (the platform's and each gateway's). A name (a username,
// which is also a topic level, or a project code in the topics) is 1..64 bytes without '/', '+',
// '#', ':', whitespace or control characters. A password is non-empty, without ':' or line
// breaks: the password and credentials files are "user:password" lines. kInvalidArgument naming
// `field` otherwise.
[[nodiscard]] Status CheckBrokerName(std::string_view name, const std::string& field);
[[nodiscard]] Status CheckBrokerPassword(std::string_view password, const std::string& field);

// The ACL text (mosquitto acl_file format) for the platform account and the gateways. Pure.
// kInvalidArgument naming the field when a code is not a valid topic level / username
// (empty, over 64 bytes, or containing '/', '+', '#', ':', whitespace or control characters);
// kAlreadyExists when two gateways (in different projects) share a code, since the code is the
// broker username.
[[nodiscard]] Result<std::string> MosquittoAclText(const std::vector<BrokerGateway>& gateways,
                                                   std::string_view platform_username,
                                                   std::string_view topic_prefix);

// The MQTT gateways of every project in the store.
[[nodiscard]] Result<std::vector<BrokerGateway>> ListBrokerGateways(Store& store);

struct BrokerAuthOptions {
    std::string password_file;  // written (mode 0600), replaced atomically
    std::string acl_file;
    std::string topic_prefix = "joule";
    std::string platform_username = "joule-platform";
    std::string platform_password;
    // Plaintext passwords by gateway code, supplied at provisioning time (the store keeps only a
    // SHA-256 of each secret, which mosquitto cannot use). Every MQTT gateway needs one.
    std::map<std::string, std::string, std::less<>> gateway_passwords;
    std::string mosquitto_passwd = "mosquitto_passwd";  // the binary that hashes the file
};

// Writes `text` to `path`, created with mode 0600 (never readable by others), and fsyncs it. The
// caller renames it into place when the whole set of files is written.
[[nodiscard]] Status WritePrivateFile(const std::string& path, std::string_view text);

// Writes the ACL file and the password file for every MQTT gateway in the store plus the
// platform account. The password file is written as plaintext "user:password" lines with mode
// 0600 and hashed in place with `mosquitto_passwd -U` (PBKDF2-SHA512 "$7$" on mosquitto 2.x)
// before it is renamed into place, so the final path never holds plaintext.
// Fails with kNotFound (field "gateway_passwords.<code>") when a gateway has no password,
// kInvalidArgument for a password with ':' or a newline, kUnavailable when a file cannot be
// written or mosquitto_passwd fails. On failure the target files are left as they were.
[[nodiscard]] Status WriteMosquittoAuth(Store& store, const BrokerAuthOptions& options);

}  // namespace joule::ingest
