#include "api/live_hub.hpp"

#include <unordered_map>
#include <utility>

#include "api/api_internal.hpp"

namespace joule::api {

namespace {

constexpr int kPollBatch = 5'000;  // changes read per query

std::string_view KindName(LiveKind kind) {
    switch (kind) {
        case LiveKind::kMeter:
            return "meter";
        case LiveKind::kAccount:
            return "account";
        case LiveKind::kAlarm:
            return "alarm";
        case LiveKind::kCommand:
            return "command";
        case LiveKind::kGateway:
            return "gateway";
    }
    return "unknown";
}

std::string EventText(int64_t seq, std::string_view name, const Json& data) {
    std::string text = "id: " + std::to_string(seq) + "\nevent: ";
    text.append(name);
    text += "\ndata: ";
    text += data.dump();  // one line: dump() escapes every control character
    text += "\n\n";
    return text;
}

}  // namespace

LiveHub::LiveHub(Store& store, Options options) : store_(store), options_(options) {}

LiveHub::~LiveHub() {
    {
        const std::lock_guard lock(stop_mutex_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    const std::lock_guard lock(mutex_);
    for (Subscriber& s : subscribers_) {
        s.stream->Close();
    }
}

int LiveHub::subscribers() const {
    const std::lock_guard lock(mutex_);
    return static_cast<int>(subscribers_.size());
}

bool LiveHub::Sees(const LiveFilter& filter, const Event& event) {
    if (event.project != filter.project || event.text.empty()) {
        return false;
    }
    switch (event.kind) {
        case LiveKind::kMeter:
        case LiveKind::kCommand:
        case LiveKind::kGateway:
            if (!filter.devices) {
                return false;
            }
            break;
        case LiveKind::kAccount:
            if (!filter.accounts) {
                return false;
            }
            break;
        case LiveKind::kAlarm:
            if (!filter.alarms) {
                return false;
            }
            break;
    }
    return true;
}

Result<std::vector<LiveHub::Event>> LiveHub::EventsOf(Tx& tx, std::vector<LiveChange> changes) {
    // The newest change of each subject stands for all of them: its state is read now anyway.
    std::unordered_map<int64_t, int64_t> last_seq;  // (subject << 3 | kind) -> seq
    auto key = [](const LiveChange& c) { return c.subject << 3 | static_cast<int64_t>(c.kind); };
    for (const LiveChange& c : changes) {
        last_seq[key(c)] = c.seq;
    }
    std::vector<Event> events;
    for (const LiveChange& c : changes) {
        if (last_seq[key(c)] != c.seq) {
            continue;
        }
        Event e{c.seq, c.project, c.kind, ""};
        const std::string_view name = KindName(c.kind);
        // A subject deleted since (never today, but a failed read must not stop the stream)
        // leaves the text empty: nobody is sent it.
        switch (c.kind) {
            case LiveKind::kMeter: {
                auto status = tx.LoadMeterStatus(MeterId{c.subject});
                if (status && *status) {
                    const MeterStatusRecord& s = **status;
                    e.text = EventText(
                        c.seq, name,
                        Json{{"meter", MeterCodeOf(tx, s.meter)},
                             {"online", s.online},
                             {"relay", RelayStateName(s.relay)},
                             {"valve", ValveStateName(s.valve)},
                             {"hold", s.hold},
                             {"last_seen", s.last_seen ? FormatInstant(*s.last_seen) : ""},
                             {"at", FormatInstant(c.at)}});
                }
                break;
            }
            case LiveKind::kAccount: {
                auto account = tx.GetAccount(AccountId{c.subject});
                if (account) {
                    Json data = AccountSummaryJson(*account);
                    data["at"] = FormatInstant(c.at);
                    e.text = EventText(c.seq, name, data);
                }
                break;
            }
            case LiveKind::kAlarm: {
                auto alarm = tx.GetAlarm(c.subject);
                if (alarm && *alarm) {
                    const AlarmRecord& a = **alarm;
                    e.text = EventText(
                        c.seq, name,
                        AlarmJson(a, MeterCodeOf(tx, a.meter), AccountNumberOf(tx, a.account)));
                }
                break;
            }
            case LiveKind::kCommand: {
                auto command = tx.GetCommand(c.subject);
                if (command) {
                    e.text = EventText(c.seq, name,
                                       CommandJson(*command, MeterCodeOf(tx, command->meter),
                                                   AccountNumberOf(tx, command->account)));
                }
                break;
            }
            case LiveKind::kGateway: {
                auto gateway = tx.GetGateway(GatewayId{c.subject});
                if (gateway) {
                    e.text = EventText(
                        c.seq, name,
                        Json{{"gateway", gateway->code},
                             {"online", gateway->online},
                             {"last_seen",
                              gateway->last_seen ? FormatInstant(*gateway->last_seen) : ""},
                             {"at", FormatInstant(c.at)}});
                }
                break;
            }
        }
        events.push_back(std::move(e));
    }
    return events;
}

Result<std::shared_ptr<ResponseStream>> LiveHub::Subscribe(LiveFilter filter,
                                                           std::optional<int64_t> resume_after) {
    auto stream = std::make_shared<ResponseStream>();
    {
        const std::lock_guard lock(mutex_);
        if (static_cast<int>(subscribers_.size()) >= options_.max_subscribers) {
            return MakeError(ErrorCode::kResourceExhausted,
                             "too many live streams are open; try again later", "");
        }
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
        if (cursor_ < 0) {
            JOULE_ASSIGN_OR_RETURN(cursor_, tx->LastLiveChange());
        }
        // The client retries after 3 s when the connection drops.
        stream->Push("retry: 3000\n\n");
        bool reset = false;
        if (resume_after && *resume_after < cursor_) {
            JOULE_ASSIGN_OR_RETURN(auto missed,
                                   tx->ListLiveChanges(*resume_after, options_.replay_limit + 1));
            const bool gap = missed.empty() || missed.front().seq != *resume_after + 1;
            const bool too_many = static_cast<int>(missed.size()) > options_.replay_limit;
            reset = gap || too_many;
            if (!reset) {
                // What the poller has not handed out yet comes with the next poll.
                std::erase_if(missed, [&](const LiveChange& c) { return c.seq > cursor_; });
                JOULE_ASSIGN_OR_RETURN(auto events, EventsOf(*tx, std::move(missed)));
                for (const Event& e : events) {
                    if (Sees(filter, e)) {
                        stream->Push(e.text);
                    }
                }
            }
        } else if (resume_after && *resume_after > cursor_) {
            reset = true;  // a seq this store never gave: another store, or restored from backup
        }
        const Json ready{{"seq", cursor_}};
        stream->Push(EventText(cursor_, reset ? "reset" : "ready", ready));
        subscribers_.push_back(Subscriber{std::move(filter), stream});
    }
    const std::lock_guard lock(stop_mutex_);
    if (!thread_.joinable() && !stopping_) {
        thread_ = std::thread([this] { Run(); });
    }
    return stream;
}

Status LiveHub::PollOnce() {
    const std::lock_guard lock(mutex_);
    std::erase_if(subscribers_, [](const Subscriber& s) { return s.stream->gone(); });
    if (subscribers_.empty() || cursor_ < 0) {
        cursor_ = -1;  // nobody listens: the next subscriber starts from the newest change
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    while (true) {
        JOULE_ASSIGN_OR_RETURN(auto changes, tx->ListLiveChanges(cursor_, kPollBatch));
        if (changes.empty()) {
            return {};
        }
        const bool more = changes.size() == static_cast<std::size_t>(kPollBatch);
        cursor_ = changes.back().seq;
        JOULE_ASSIGN_OR_RETURN(auto events, EventsOf(*tx, std::move(changes)));
        for (Subscriber& s : subscribers_) {
            for (const Event& e : events) {
                if (Sees(s.filter, e) && !s.stream->Push(e.text)) {
                    s.stream->Close();  // it stopped reading: it reconnects and resumes
                    break;
                }
            }
        }
        if (!more) {
            return {};
        }
    }
}

void LiveHub::Run() {
    std::unique_lock lock(stop_mutex_);
    while (!stopping_) {
        lock.unlock();
        (void)PollOnce();  // a failed read is retried at the next poll
        lock.lock();
        stop_cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
    }
}

}  // namespace joule::api
