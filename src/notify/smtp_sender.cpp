#include <curl/curl.h>
#include <date/date.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "notify/channels.hpp"
#include "pay/crypto.hpp"

namespace joule::notify {

namespace {

// Base64 in lines of 76, as MIME wants.
std::string WrappedBase64(std::string_view bytes) {
    const std::string flat = pay::Base64Encode(bytes);
    std::string out;
    for (std::size_t i = 0; i < flat.size(); i += 76) {
        out += flat.substr(i, 76);
        out += "\r\n";
    }
    return out;
}

// RFC 2047: =?UTF-8?B?...?= words short enough for a header line.
std::string EncodedWord(std::string_view text) {
    bool ascii = std::all_of(text.begin(), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b >= 0x20 && b < 0x7F;
    });
    if (ascii && text.find("=?") == std::string_view::npos) {
        return std::string(text);
    }
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        // At most 45 bytes a word (60 Base64 characters), cut between UTF-8 characters.
        std::size_t n = std::min<std::size_t>(45, text.size() - i);
        while (i + n < text.size() && (static_cast<unsigned char>(text[i + n]) & 0xC0) == 0x80) {
            --n;
        }
        if (!out.empty()) {
            out += "\r\n ";
        }
        out += "=?UTF-8?B?" + pay::Base64Encode(text.substr(i, n)) + "?=";
        i += n;
    }
    return out;
}

bool SafeHeaderValue(std::string_view text) {
    return text.find_first_of("\r\n") == std::string_view::npos;
}

struct Upload {
    std::string_view data;
    std::size_t at = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t n = std::min(size * count, upload->data.size() - upload->at);
    std::memcpy(buffer, upload->data.data() + upload->at, n);
    upload->at += n;
    return n;
}

class SmtpSender final : public NotificationSender {
public:
    SmtpSender(SmtpSettings settings, Seconds timeout)
        : settings_(std::move(settings)), timeout_(timeout) {
        EnsureCurl();
        curl_ = curl_easy_init();
    }
    ~SmtpSender() override {
        if (curl_ != nullptr) {
            curl_easy_cleanup(curl_);
        }
    }
    SmtpSender(const SmtpSender&) = delete;
    SmtpSender& operator=(const SmtpSender&) = delete;

    Status Send(const DeliveryRecord& d) override {
        if (curl_ == nullptr) {
            return MakeError(ErrorCode::kInternal, "libcurl did not start");
        }
        if (!SafeHeaderValue(d.address) || d.address.find_first_of("<>") != std::string::npos) {
            return MakeError(ErrorCode::kInvalidArgument, "not an email address: " + d.address);
        }
        const auto now = date::floor<std::chrono::seconds>(std::chrono::system_clock::now());
        const std::string message = ComposeEmail(
            settings_, d.address, d.title, d.body,
            "joule-" + std::to_string(d.id) + "-" + std::to_string(d.attempts + 1), now);
        Upload upload{message};
        const std::string from = "<" + settings_.from + ">";
        curl_slist* recipients = curl_slist_append(nullptr, ("<" + d.address + ">").c_str());
        curl_easy_reset(curl_);
        curl_easy_setopt(curl_, CURLOPT_URL, settings_.url.c_str());
        curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count() * 1000));
        curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
        curl_easy_setopt(curl_, CURLOPT_USE_SSL,
                         settings_.require_tls ? CURLUSESSL_ALL : CURLUSESSL_TRY);
        if (!settings_.user.empty()) {
            curl_easy_setopt(curl_, CURLOPT_USERNAME, settings_.user.c_str());
            curl_easy_setopt(curl_, CURLOPT_PASSWORD, settings_.password.c_str());
        }
        curl_easy_setopt(curl_, CURLOPT_MAIL_FROM, from.c_str());
        curl_easy_setopt(curl_, CURLOPT_MAIL_RCPT, recipients);
        curl_easy_setopt(curl_, CURLOPT_READFUNCTION, ReadUpload);
        curl_easy_setopt(curl_, CURLOPT_READDATA, &upload);
        curl_easy_setopt(curl_, CURLOPT_UPLOAD, 1L);
        std::array<char, CURL_ERROR_SIZE> detail{};
        curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, detail.data());
        const CURLcode rc = curl_easy_perform(curl_);
        curl_slist_free_all(recipients);
        if (rc == CURLE_OK) {
            return {};
        }
        long reply = 0;  // NOLINT(google-runtime-int): libcurl's type
        curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply);
        const std::string said = detail[0] != '\0' ? detail.data() : curl_easy_strerror(rc);
        std::string what = "SMTP: " + said;
        if (reply != 0) {
            what += " (server replied " + std::to_string(reply) + ")";
        }
        // A 5xx to RCPT is the server refusing this address for good; anything else (no
        // connection, 4xx "try later", login, a sender it refuses: the server's settings) is
        // tried again.
        if (reply >= 500 && reply < 600 && said.find("RCPT") != std::string::npos) {
            return MakeError(ErrorCode::kInvalidArgument, what);
        }
        return MakeError(ErrorCode::kUnavailable, what);
    }

private:
    SmtpSettings settings_;
    Seconds timeout_;
    CURL* curl_ = nullptr;
};

}  // namespace

std::string ComposeEmail(const SmtpSettings& smtp, const std::string& to,
                         const std::string& subject, const std::string& body,
                         const std::string& message_id, Instant date) {
    const std::string host = smtp.from.find('@') != std::string::npos
                                 ? smtp.from.substr(smtp.from.find('@') + 1)
                                 : "joule";
    std::string m;
    m += "Date: " + date::format("%a, %d %b %Y %H:%M:%S +0000", date) + "\r\n";
    m += "From: ";
    if (!smtp.from_name.empty() && SafeHeaderValue(smtp.from_name)) {
        m += EncodedWord(smtp.from_name) + " ";
    }
    m += "<" + smtp.from + ">\r\n";
    m += "To: <" + to + ">\r\n";
    m += "Subject: " + EncodedWord(SafeHeaderValue(subject) ? subject : "Joule") + "\r\n";
    m += "Message-ID: <" + message_id + "@" + host + ">\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "\r\n";
    m += WrappedBase64(body);
    return m;
}

std::unique_ptr<NotificationSender> MakeSmtpSender(SmtpSettings settings, Seconds timeout) {
    return std::make_unique<SmtpSender>(std::move(settings), timeout);
}

}  // namespace joule::notify
