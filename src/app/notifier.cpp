#include "app/notifier.hpp"

#include <cstdio>

#include "base/file.hpp"
#include "notify/channels.hpp"

namespace joule::app {

namespace {

constexpr std::size_t kMaxSecretFileBytes = 4096;
constexpr int kDeliverBatch = 50;

Result<std::string> ReadSecret(const std::string& path, std::string_view setting) {
    JOULE_ASSIGN_OR_RETURN(std::string text, ReadFileText(path, setting, kMaxSecretFileBytes));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (text.empty()) {
        return InvalidArgument(std::string(setting), "the file is empty");
    }
    return text;
}

std::map<std::string, std::string> TemplateMap(const std::vector<std::string>& entries) {
    std::map<std::string, std::string> out;
    for (const std::string& entry : entries) {
        const std::size_t eq = entry.find('=');  // checked by ValidateServeOptions
        out[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    return out;
}

}  // namespace

Result<std::unique_ptr<Notifier>> Notifier::Make(Store& store, const ServeOptions& o,
                                                 std::function<Instant()> clock) {
    std::map<NotifyChannel, std::unique_ptr<NotificationSender>> senders;
    if (!o.smtp_url.empty()) {
        notify::SmtpSettings smtp;
        smtp.url = o.smtp_url;
        smtp.from = o.smtp_from;
        smtp.from_name = o.smtp_from_name;
        smtp.user = o.smtp_user;
        if (!o.smtp_password_file.empty()) {
            JOULE_ASSIGN_OR_RETURN(smtp.password,
                                   ReadSecret(o.smtp_password_file, "notify.smtp_password_file"));
        }
        smtp.require_tls = o.smtp_require_tls;
        senders[NotifyChannel::kEmail] = notify::MakeSmtpSender(std::move(smtp));
    }
    if (!o.sms_access_key_id.empty()) {
        notify::SmsSettings sms;
        sms.endpoint = o.sms_endpoint;
        sms.access_key_id = o.sms_access_key_id;
        JOULE_ASSIGN_OR_RETURN(
            sms.access_key_secret,
            ReadSecret(o.sms_access_key_secret_file, "notify.sms_access_key_secret_file"));
        sms.sign_name = o.sms_sign_name;
        sms.templates = TemplateMap(o.sms_templates);
        senders[NotifyChannel::kSms] = notify::MakeAliyunSmsSender(std::move(sms));
    }
    if (!o.wechat_mp_app_id.empty()) {
        notify::WechatTemplateSettings wechat;
        wechat.api_base = o.wechat_mp_api_base;
        wechat.app_id = o.wechat_mp_app_id;
        JOULE_ASSIGN_OR_RETURN(wechat.app_secret, ReadSecret(o.wechat_mp_app_secret_file,
                                                             "notify.wechat_app_secret_file"));
        wechat.templates = TemplateMap(o.wechat_mp_templates);
        wechat.default_template = o.wechat_mp_default_template;
        senders[NotifyChannel::kWechat] = notify::MakeWechatTemplateSender(std::move(wechat));
    }
    if (o.notify_webhooks) {
        senders[NotifyChannel::kWebhook] = notify::MakeWebhookSender();
    }
    NotifyOptions options;
    JOULE_ASSIGN_OR_RETURN(options.quiet,
                           ParseQuietHours(o.notify_quiet_hours, "notify.quiet_hours"));
    options.per_address_per_hour = o.notify_per_address_per_hour;
    for (const auto& [channel, sender] : senders) {
        options.configured.insert(channel);
    }
    return std::unique_ptr<Notifier>(
        new Notifier(store, std::move(options), std::move(senders), std::move(clock)));
}

Notifier::Notifier(Store& store, NotifyOptions options,
                   std::map<NotifyChannel, std::unique_ptr<NotificationSender>> senders,
                   std::function<Instant()> clock)
    : expand_batch_(options.expand_batch),
      service_(store, std::move(options)),
      senders_(std::move(senders)),
      clock_(std::move(clock)) {}

Notifier::~Notifier() { Stop(); }

void Notifier::Start() {
    threads_.emplace_back([this] { Expand(); });
    for (auto& [channel, sender] : senders_) {
        threads_.emplace_back([this, c = channel, s = sender.get()] { Deliver(c, *s); });
    }
}

void Notifier::Stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) {
        t.join();
    }
    threads_.clear();
}

std::vector<std::string> Notifier::Channels() const {
    std::vector<std::string> out;
    for (const auto& [channel, sender] : senders_) {
        out.emplace_back(NotifyChannelName(channel));
    }
    return out;
}

bool Notifier::Sleep(std::chrono::milliseconds period) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, period, [this] { return stopping_; });
    return !stopping_;
}

void Notifier::Expand() {
    while (true) {
        auto r = service_.ExpandEvents(clock_());
        if (!r) {
            std::fprintf(stderr, "joule serve: notifications: %s\n", r.error().ToString().c_str());
        }
        // A full batch: more are waiting, go on at once (unless stopping).
        const bool more = r && r->events >= expand_batch_;
        if (!Sleep(more ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500))) {
            return;
        }
    }
}

void Notifier::Deliver(NotifyChannel channel, NotificationSender& sender) {
    while (true) {
        auto r = service_.DeliverDue(channel, sender, clock_(), kDeliverBatch);
        if (!r) {
            std::fprintf(stderr, "joule serve: %s deliveries: %s\n",
                         std::string(NotifyChannelName(channel)).c_str(),
                         r.error().ToString().c_str());
        }
        // A full batch went: more may be due, go on at once (unless stopping).
        const bool more = r && r->sent + r->retried + r->failed == kDeliverBatch;
        if (!Sleep(more ? std::chrono::milliseconds(0) : std::chrono::milliseconds(500))) {
            return;
        }
    }
}

}  // namespace joule::app
