// The live stream's fan-out (GET /api/v1/projects/{project}/events): one thread reads the store's
// live changes a few times a second (core/ports.hpp LiveChange, written by the store in the unit
// of work that made the change) and gives each subscriber, as Server-Sent Events, the ones it may
// see: its project and the kinds its permissions allow. An event
// carries the subject's state when sent, so several changes of one subject in a poll become one
// event. A client that reconnects with Last-Event-ID gets what it missed, or a `reset` event when
// the store no longer has it (reload everything).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.hpp"
#include "core/ports.hpp"

namespace joule::api {

// What one subscriber may see.
struct LiveFilter {
    ProjectId project;
    bool devices = false;   // meter and gateway state, commands (devices.view)
    bool accounts = false;  // account state (accounts.view)
    bool alarms = false;    // alarms (alarms.view)
};

class LiveHub {
public:
    struct Options {
        std::chrono::milliseconds poll_interval{250};
        int max_subscribers = 1'000;
        int replay_limit = 10'000;  // changes a reconnecting client may catch up; more: reset
    };
    LiveHub(Store& store, Options options);
    ~LiveHub();  // closes every stream and joins the thread
    LiveHub(const LiveHub&) = delete;
    LiveHub& operator=(const LiveHub&) = delete;

    // A new subscriber's stream, starting with a `ready` event that carries the newest seq.
    // `resume_after` (the client's Last-Event-ID) first replays what came after it. The thread
    // starts with the first subscriber. kResourceExhausted when max_subscribers are open.
    [[nodiscard]] Result<std::shared_ptr<ResponseStream>> Subscribe(
        LiveFilter filter, std::optional<int64_t> resume_after);
    // Reads the changes since the last poll and hands them out; drops subscribers that went
    // away or stopped reading. The thread calls it; tests call it to step.
    [[nodiscard]] Status PollOnce();
    [[nodiscard]] int subscribers() const;

private:
    struct Subscriber {
        LiveFilter filter;
        std::shared_ptr<ResponseStream> stream;
    };
    // A change as the stream sends it: the SSE text and what filters need to know.
    struct Event {
        int64_t seq = 0;
        ProjectId project;
        LiveKind kind = LiveKind::kMeter;
        std::string text;  // "id: ..\nevent: ..\ndata: ..\n\n"; empty: the subject is gone
    };
    [[nodiscard]] static bool Sees(const LiveFilter& filter, const Event& event);
    // The events of `changes` (the last of each subject only), read in `tx`.
    [[nodiscard]] static Result<std::vector<Event>> EventsOf(Tx& tx,
                                                             std::vector<LiveChange> changes);
    void Run();

    Store& store_;
    const Options options_;
    mutable std::mutex mutex_;  // the subscribers, the cursor and every store read of a poll
    std::vector<Subscriber> subscribers_;
    int64_t cursor_ = -1;  // the last seq handed out; -1 until the first subscriber
    std::mutex stop_mutex_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace joule::api
