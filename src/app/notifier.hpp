// The notification dispatcher inside `joule serve` [ALM-3]: one thread turns events into
// deliveries, and each configured channel has a thread of its own that sends them, so a channel
// that is down or slow never holds up another.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/live.hpp"
#include "core/notification_ports.hpp"
#include "service/notification_service.hpp"

namespace joule::app {

class Notifier {
public:
    // Reads the channels' secret files and checks them (before the store opens): kNotFound or
    // kInvalidArgument naming the setting.
    [[nodiscard]] static Result<std::unique_ptr<Notifier>> Make(Store& store, const ServeOptions& o,
                                                                std::function<Instant()> clock);
    ~Notifier();
    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    void Start();
    void Stop();
    // The channels it sends on: "email", "sms", "wechat", "webhook".
    [[nodiscard]] std::vector<std::string> Channels() const;

private:
    Notifier(Store& store, NotifyOptions options,
             std::map<NotifyChannel, std::unique_ptr<NotificationSender>> senders,
             std::function<Instant()> clock);
    void Expand();
    void Deliver(NotifyChannel channel, NotificationSender& sender);
    // Waits `period` or until Stop(); false once stopping.
    bool Sleep(std::chrono::milliseconds period);

    int expand_batch_;  // before service_, which takes the options it is read from
    NotificationService service_;
    std::map<NotifyChannel, std::unique_ptr<NotificationSender>> senders_;
    std::function<Instant()> clock_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace joule::app
