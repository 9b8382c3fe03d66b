// Writes JSON text straight into a string, for answers where building a document first costs more
// than the query behind it (a page of 100 accounts: the DOM, its dump and its destruction were
// half of the request). Strings are written as nlohmann-json dumps them (UTF-8 kept, control
// characters escaped); invalid UTF-8 is replaced by U+FFFD, as the API's dumps do. The caller
// pairs Begin/End and Key/value; the writer only places the commas.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace joule::wire {

class JsonText {
public:
    JsonText& BeginObject() { return Open('{'); }
    JsonText& EndObject() { return Close('}'); }
    JsonText& BeginArray() { return Open('['); }
    JsonText& EndArray() { return Close(']'); }
    JsonText& Key(std::string_view key);
    JsonText& String(std::string_view value);
    JsonText& Int(int64_t value);
    JsonText& Bool(bool value);
    // A value that is already JSON text (a dumped document).
    JsonText& Raw(std::string_view json);

    [[nodiscard]] std::string Take() { return std::move(out_); }

private:
    JsonText& Open(char bracket);
    JsonText& Close(char bracket);
    void BeforeValue();
    void Quoted(std::string_view text);

    std::string out_;
    bool need_comma_ = false;
};

}  // namespace joule::wire
